//! Retry policy: whether and when to try a call again, with exponential backoff and "full
//! jitter".
//!
//! Pure: the random part is drawn by the caller and passed in as `jitter_permille`
//! (0..=1000), so the policy is deterministic and testable.

use std::time::Duration;

/// How many times to try and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (0 counts as 1: no retries).
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles with every attempt.
    pub base: Duration,
    /// The backoff ceiling never exceeds this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base: Duration::from_millis(50), max_delay: Duration::from_secs(1) }
    }
}

/// How an attempt ended, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It worked.
    Success,
    /// A definite "no" (e.g. a declined card): asking again gives the same answer.
    Decline,
    /// A failure that may go away: a timeout, an unavailable service.
    Transient,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Stop: the outcome is final (success or decline).
    Done,
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Stop: transient failures used up every attempt.
    GiveUp,
}

impl RetryPolicy {
    /// The backoff ceiling after attempt `attempt` (1-based):
    /// `min(max_delay, base * 2^(attempt-1))`, saturating instead of overflowing.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.max(1) - 1;
        2u32.checked_pow(exp)
            .and_then(|f| self.base.checked_mul(f))
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    /// The delay after attempt `attempt` with "full jitter": a uniformly drawn fraction
    /// `jitter_permille / 1000` (clamped to 1000) of [`ceiling`](Self::ceiling).
    pub fn delay(&self, attempt: u32, jitter_permille: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_nanos();
        let nanos = ceiling * u128::from(jitter_permille.min(1000)) / 1000;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// After attempt number `attempt` (1-based) ended with `outcome`: `Success` and `Decline`
    /// are `Done` (declines are never retried); `Transient` is `RetryAfter(delay)` while
    /// `attempt < max_attempts`, else `GiveUp`.
    pub fn next(&self, attempt: u32, outcome: Outcome, jitter_permille: u32) -> Next {
        match outcome {
            Outcome::Success | Outcome::Decline => Next::Done,
            Outcome::Transient if attempt < self.max_attempts.max(1) => {
                Next::RetryAfter(self.delay(attempt, jitter_permille))
            }
            Outcome::Transient => Next::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn defaults_are_three_attempts_from_fifty_milliseconds_up_to_one_second() {
        assert_eq!(
            RetryPolicy::default(),
            RetryPolicy { max_attempts: 3, base: ms(50), max_delay: Duration::from_secs(1) }
        );
    }

    #[test]
    fn success_and_decline_are_never_retried() {
        let p = RetryPolicy::default();
        for attempt in 1..=5 {
            assert_eq!(p.next(attempt, Outcome::Success, 500), Next::Done);
            assert_eq!(p.next(attempt, Outcome::Decline, 500), Next::Done);
        }
    }

    #[test]
    fn transient_failures_are_retried_until_the_last_attempt() {
        let p = RetryPolicy::default();
        assert!(matches!(p.next(1, Outcome::Transient, 1000), Next::RetryAfter(_)));
        assert!(matches!(p.next(2, Outcome::Transient, 1000), Next::RetryAfter(_)));
        assert_eq!(p.next(3, Outcome::Transient, 1000), Next::GiveUp);
        assert_eq!(p.next(4, Outcome::Transient, 1000), Next::GiveUp);
    }

    #[test]
    fn one_attempt_or_zero_means_no_retry() {
        for max_attempts in [0, 1] {
            let p = RetryPolicy { max_attempts, ..RetryPolicy::default() };
            assert_eq!(p.next(1, Outcome::Transient, 1000), Next::GiveUp);
        }
    }

    #[test]
    fn the_ceiling_doubles_per_attempt_up_to_the_maximum() {
        let p = RetryPolicy { max_attempts: 10, base: ms(50), max_delay: ms(1000) };
        let ceilings: Vec<_> = (1..=7).map(|a| p.ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [50, 100, 200, 400, 800, 1000, 1000]);
        // attempt 0 is treated as the first
        assert_eq!(p.ceiling(0), ms(50));
    }

    #[test]
    fn full_jitter_scales_the_ceiling_by_the_drawn_fraction() {
        let p = RetryPolicy { max_attempts: 10, base: ms(50), max_delay: ms(1000) };
        assert_eq!(p.next(1, Outcome::Transient, 0), Next::RetryAfter(Duration::ZERO));
        assert_eq!(p.next(1, Outcome::Transient, 1000), Next::RetryAfter(ms(50)));
        assert_eq!(p.next(2, Outcome::Transient, 500), Next::RetryAfter(ms(50)));
        assert_eq!(p.next(3, Outcome::Transient, 250), Next::RetryAfter(ms(50)));
        assert_eq!(p.next(9, Outcome::Transient, 123), Next::RetryAfter(ms(123)));
        // out-of-range draws are clamped to the ceiling
        assert_eq!(p.delay(1, 5000), ms(50));
    }

    #[test]
    fn huge_attempt_numbers_and_durations_saturate_at_the_maximum() {
        let p = RetryPolicy { max_attempts: u32::MAX, base: Duration::MAX, max_delay: ms(700) };
        assert_eq!(p.ceiling(2), ms(700));
        let p = RetryPolicy { max_attempts: u32::MAX, base: ms(1), max_delay: Duration::from_secs(60) };
        for attempt in [31, 32, 33, 64, u32::MAX] {
            assert_eq!(p.ceiling(attempt), Duration::from_secs(60), "attempt {attempt}");
            assert_eq!(p.delay(attempt, 1000), Duration::from_secs(60));
        }
        assert_eq!(p.ceiling(11), ms(1024));
    }
}
