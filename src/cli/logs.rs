//! The server's log lines. Writing each line to stdout as it is made cost a
//! system call per request: under the lookup benchmark, logging was a tenth
//! of the server's time, most of it in `write`. Lines are instead gathered in
//! memory and written out in one call when the buffer fills or a tenth of a
//! second has passed, whichever is first, and whatever is left when the
//! server stops. A process killed outright loses at most that last tenth of a
//! second of lines, never data.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(100);
const BUFFER: usize = 64 * 1024;

/// Plain text without colour codes unless stdout is a terminal, or one JSON
/// object per line for log shippers. Keep the guard for the life of the
/// server: dropping it writes out what is left.
pub(super) fn init_logs(format: &str) -> LogGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "performchat=info,tower_http=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| &LINES);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(io::stdout().is_terminal()).init();
    }
    LogGuard::start(&LINES)
}

/// The process has one log, as it has one stdout.
static LINES: Lines = Lines(Mutex::new(Vec::new()));

struct Lines(Mutex<Vec<u8>>);

impl Lines {
    fn buffer(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding it leaves bytes, not broken invariants.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_out(buffer: &mut Vec<u8>) {
        if !buffer.is_empty() {
            // Nowhere to report a failure to write the log.
            let _ = io::stdout().lock().write_all(buffer);
            buffer.clear();
        }
    }

    fn flush_now(&self) {
        Self::write_out(&mut self.buffer());
    }
}

/// The formatter hands over one whole line per call.
impl Write for &Lines {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut buffer = self.buffer();
        buffer.extend_from_slice(line);
        if buffer.len() >= BUFFER {
            Lines::write_out(&mut buffer);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(super) struct LogGuard {
    lines: &'static Lines,
    stop: Arc<AtomicBool>,
    flusher: Option<JoinHandle<()>>,
}

impl LogGuard {
    fn start(lines: &'static Lines) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let flusher = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                while !stopped.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_EVERY);
                    lines.flush_now();
                }
            })
            .ok();
        if flusher.is_none() {
            eprintln!("no thread to write the log; lines will appear when 64 KiB gathered");
        }
        LogGuard {
            lines,
            stop,
            flusher,
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(flusher) = self.flusher.take() {
            flusher.thread().unpark();
            let _ = flusher.join();
        }
        self.lines.flush_now();
    }
}
