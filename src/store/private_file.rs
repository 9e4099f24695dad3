//! SQLite files hold the chat-token signing secret (the `settings` table) and
//! every customer user's data, so the files this process creates are readable
//! by their owner only (mode 0600), whatever the umask. SQLite gives the
//! `-wal` and `-shm` files the database file's own mode, so creating the
//! database file this way is enough for all three.

use std::io::ErrorKind;
use std::path::Path;

/// Creates `path` as an empty file with mode 0600 (an empty file is a valid,
/// empty SQLite database). A file that already exists is left as it is.
pub(super) fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        match options.open(path) {
            // The mode given to open(2) is filtered by the umask, which never
            // adds a bit: set it again so the file is exactly 0600.
            Ok(file) => file.set_permissions(std::fs::Permissions::from_mode(0o600)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
