//! An error with its sources on one line, for the log: every layer logs
//! failures the same way without depending on the HTTP edge's error type.

use std::error::Error as StdError;
use std::fmt::Write as _;

/// An error and its sources, `outer: inner: …`.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}
