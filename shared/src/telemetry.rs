//! Structured JSON logs (one object per line, as CloudWatch Logs Insights reads them).

use tracing_subscriber::filter::LevelFilter;

/// Installs the JSON subscriber once per cold start. `LOG_LEVEL` (`error`..`trace`) sets the
/// level, default `info`. (A plain level rather than `RUST_LOG` directives keeps the regex
/// engine out of every binary.)
pub fn init() {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_target(false)
        .with_current_span(false)
        .flatten_event(true)
        .with_ansi(false)
        .try_init();
}
