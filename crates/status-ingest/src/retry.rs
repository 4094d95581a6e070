//! When and how long to wait before asking a server again.
//!
//! Ingest retries a request that failed to connect, that the server dropped
//! before answering, or that was answered with a 5xx or a 429 — the failures
//! that say nothing about the resource itself. Waits grow exponentially with
//! "equal jitter" (half fixed, half random), so many lanes retrying against
//! the same host spread out instead of arriving together, and never collapse
//! to zero. A `Retry-After` from the server replaces the computed wait.
//!
//! Timeouts are not retried: the per-request timeout is the budget a lane
//! gets, and retrying would multiply it.

use std::time::Duration;

/// How many times to try a request and how long to wait in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (at least 1).
    pub attempts: u32,
    /// The wait before the first retry, before jitter.
    pub base_delay: Duration,
    /// The longest computed wait.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a server asking for more is
    /// given up on at once rather than stalling the whole ingest.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop: the attempts are used up.
    GiveUp,
    /// Stop: the server asked for a longer pause than [`RetryPolicy::max_retry_after`].
    ServerWaitTooLong(Duration),
}

impl RetryPolicy {
    /// The decision after attempt number `attempt` (1-based) failed in a
    /// retryable way; `retry_after` is the server's request, if it made one;
    /// `jitter` is a uniform random number in `[0, 1)`.
    pub(crate) fn next(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Next {
        if attempt >= self.attempts {
            return Next::GiveUp;
        }
        match retry_after {
            Some(wait) if wait > self.max_retry_after => Next::ServerWaitTooLong(wait),
            Some(wait) => Next::RetryAfter(wait),
            None => Next::RetryAfter(self.backoff(attempt, jitter)),
        }
    }

    /// The computed wait after attempt `attempt` (1-based): `base × 2^(attempt-1)`,
    /// capped at `max_delay`, of which the upper half is random.
    pub(crate) fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let ceiling = self.base_delay.saturating_mul(1 << exponent).min(self.max_delay);
        let half = ceiling / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Parses a `Retry-After` header: delay-seconds, or an HTTP-date. A date is
/// turned into a wait by subtracting the response's own `Date` header, so
/// the result does not depend on this machine's clock agreeing with the
/// server's; without a `Date` there is no reference and the header is
/// ignored (the computed backoff applies).
pub(crate) fn parse_retry_after(value: &str, response_date: Option<&str>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let until = parse_http_date(value)?;
    let reference = parse_http_date(response_date?)?;
    let seconds = until.as_second().saturating_sub(reference.as_second());
    Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send.
fn parse_http_date(text: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(text.trim())
        .ok()
        .map(|zoned| zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_keeps_a_floor() {
        let policy = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        };
        assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(policy.backoff(1, 0.999_999), Duration::from_nanos(99_999_950));
        assert_eq!(policy.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(policy.backoff(3, 0.5), Duration::from_millis(300));
        assert_eq!(policy.backoff(9, 1.0), Duration::from_millis(1000));
        assert_eq!(policy.backoff(u32::MAX, 0.0), Duration::from_millis(500));
    }

    #[test]
    fn attempts_and_server_waits_bound_the_retries() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next(1, Some(Duration::from_secs(2)), 0.0),
            Next::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(policy.next(3, None, 0.0), Next::GiveUp);
        assert_eq!(
            policy.next(1, Some(Duration::from_secs(3600)), 0.0),
            Next::ServerWaitTooLong(Duration::from_secs(3600))
        );
        assert!(matches!(policy.next(2, None, 0.5), Next::RetryAfter(_)));
    }

    #[test]
    fn retry_after_seconds_or_date_relative_to_the_response() {
        assert_eq!(parse_retry_after("7", None), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(
                "Fri, 20 Feb 2026 12:01:30 GMT",
                Some("Fri, 20 Feb 2026 12:00:00 GMT")
            ),
            Some(Duration::from_secs(90))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after(
                "Fri, 20 Feb 2026 11:00:00 GMT",
                Some("Fri, 20 Feb 2026 12:00:00 GMT")
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("Fri, 20 Feb 2026 12:01:30 GMT", None), None);
        assert_eq!(parse_retry_after("soon", None), None);
    }
}
