//! Structured JSON logs (one object per line, as CloudWatch Logs Insights reads them).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Our crates (log targets are module paths), which log at `LOG_LEVEL`. They never log
/// secrets, at any level.
const OWN_CRATES: [&str; 7] = [
    "taskline", "login", "register", "refresh", "tasks", "account", "devtools",
];

/// The most verbose level any other crate may log at, whatever `LOG_LEVEL` says: below it,
/// `lambda_runtime`/`lambda_http` log raw events (Authorization headers, cookies, login
/// bodies) and the AWS SDK and `hyper` log request and response bodies (password hashes).
pub const DEPENDENCY_LEVEL_CAP: LevelFilter = LevelFilter::INFO;

/// Which events are logged at `level`: our crates at `level`, every other crate at
/// `level` capped at [`DEPENDENCY_LEVEL_CAP`] (an allow-list, so a new dependency is capped
/// too).
pub fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(DEPENDENCY_LEVEL_CAP))
        .with_targets(OWN_CRATES.map(|krate| (krate, level)))
}

/// Installs the JSON subscriber once per cold start. `LOG_LEVEL` (`error`..`trace`) sets the
/// level, default `info` (see [`filter`]). (A plain level rather than `RUST_LOG` directives
/// keeps the regex engine out of every binary.)
pub fn init() {
    let level = std::env::var(crate::config::variables::LOG_LEVEL.name)
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let format = tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(false)
        .flatten_event(true)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter(level))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn at_trace_our_crates_log_everything_and_dependencies_at_most_info() {
        let filter = filter(LevelFilter::TRACE);
        for target in ["taskline::http", "login", "refresh", "tasks", "account"] {
            assert!(filter.would_enable(target, &Level::TRACE), "{target}");
        }
        for target in [
            "lambda_runtime::layers::api_client",
            "lambda_runtime_api_client",
            "lambda_http",
            "aws_smithy_runtime::client::orchestrator",
            "aws_sdk_dynamodb::operation",
            "aws_config::default_provider",
            "hyper::proto::h1::io",
            "hyper_util::client::legacy",
            "h2::codec",
            "rustls::client",
            "some_future_dependency",
        ] {
            assert!(!filter.would_enable(target, &Level::TRACE), "{target}");
            assert!(!filter.would_enable(target, &Level::DEBUG), "{target}");
            assert!(filter.would_enable(target, &Level::INFO), "{target}");
        }
    }

    #[test]
    fn a_quieter_level_applies_to_every_crate() {
        let filter = filter(LevelFilter::WARN);
        assert!(!filter.would_enable("taskline::http", &Level::INFO));
        assert!(filter.would_enable("taskline::http", &Level::WARN));
        assert!(!filter.would_enable("lambda_runtime", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::ERROR));
    }
}
