//! `-`: JSON lines on standard input, read on a thread of its own (reads block).

use std::sync::Arc;

use super::{Context, send_lines};
use crate::WatchError;

pub(super) fn start(context: Context) -> Result<(), WatchError> {
    std::thread::Builder::new()
        .name("watch-stdin".to_string())
        .spawn(move || {
            let origin: Arc<str> = Arc::from("-");
            let mut line = 0;
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            if let Err(e) = send_lines(&mut lock, &origin, &context, &mut line) {
                eprintln!("sigil watch: standard input: line {}: {e}", line + 1);
            }
        })?;
    Ok(())
}
