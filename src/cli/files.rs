//! The process's open-file limit. Every open connection is a file
//! descriptor, and a streaming chat reply holds two (the client's and the
//! model's), so `--max-connections` in the thousands needs more than the
//! usual soft limit of 1 024. The soft limit is raised to the hard one at
//! start-up (what an unprivileged process may do on its own); the hard limit
//! is the operator's (`ulimit -Hn`, systemd's `LimitNOFILE`, docs/DEPLOY.md).

/// Descriptors the server needs besides its connections: the database pool,
/// the listeners, log files, the model's connections of short replies.
const SPARE: u64 = 64;

/// Raises the soft open-file limit to the hard limit and logs what it
/// became; warns when it cannot hold `max_connections` streaming replies.
pub(super) fn raise_open_files(max_connections: usize) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            return;
        }
    };
    let wanted = needed(max_connections);
    if limit < wanted {
        tracing::warn!(
            open_files = limit,
            wanted,
            max_connections,
            "the open-file limit is below what --max-connections streaming replies need \
             (each holds the client's and the model's connection): raise the hard limit \
             (ulimit -Hn, systemd LimitNOFILE) or lower --max-connections"
        );
    } else {
        tracing::info!(open_files = limit, "open-file limit");
    }
}

/// Descriptors `max_connections` streaming replies need at most.
fn needed(max_connections: usize) -> u64 {
    (max_connections as u64)
        .saturating_mul(2)
        .saturating_add(SPARE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streaming_reply_counts_two_descriptors() {
        assert_eq!(needed(1024), 2 * 1024 + SPARE);
        assert_eq!(needed(usize::MAX), u64::MAX);
    }

    #[test]
    fn the_soft_limit_becomes_the_hard_limit() {
        raise_open_files(16);
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(soft, hard);
    }
}
