//! The arithmetic of monitoring: latency histograms with percentiles, and service-level
//! objectives with their error budgets. Pure: the server feeds in counts and reads figures.

/// Upper bound of the first latency bucket, in microseconds.
const FIRST_BOUND_US: f64 = 50.0;
/// Each bucket's upper bound is this factor above the previous one (so a percentile read
/// from the histogram is at most 15 % above the true value, never below it).
const GROWTH: f64 = 1.15;
/// Buckets with a finite upper bound: the last one ends above 60 s.
pub const BUCKETS: usize = 104;

/// Upper bound of bucket `i` in milliseconds (the last bucket, `BUCKETS`, is unbounded).
pub fn bucket_upper_ms(i: usize) -> f64 {
    let exp = i32::try_from(i).unwrap_or(i32::MAX);
    FIRST_BOUND_US * GROWTH.powi(exp) / 1000.0
}

/// The bucket a latency falls in.
fn bucket_of(ms: f64) -> usize {
    if ms.is_nan() || ms <= FIRST_BOUND_US / 1000.0 {
        return 0;
    }
    let i = ((ms * 1000.0 / FIRST_BOUND_US).ln() / GROWTH.ln()).ceil();
    // float rounding may put a value exactly on a bound one bucket too high or low
    let mut i = if i.is_finite() && i >= 0.0 { (i as usize).min(BUCKETS) } else { BUCKETS };
    while i > 0 && ms <= bucket_upper_ms(i - 1) {
        i -= 1;
    }
    while i < BUCKETS && ms > bucket_upper_ms(i) {
        i += 1;
    }
    i
}

/// Latencies counted into geometric buckets: constant size, mergeable, and percentiles within
/// 15 % (rounded up to the bucket's upper bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Box<[u32; BUCKETS + 1]>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { counts: Box::new([0; BUCKETS + 1]), total: 0 }
    }
}

impl LatencyHistogram {
    /// Counts one latency.
    pub fn record(&mut self, ms: f64) {
        let b = bucket_of(ms);
        if let Some(c) = self.counts.get_mut(b) {
            *c = c.saturating_add(1);
        }
        self.total += 1;
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    /// Latencies counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q`-quantile (0 < q <= 1) in milliseconds: the upper bound of the bucket holding
    /// the `ceil(q * count)`-th smallest latency; `None` when empty. Latencies beyond the
    /// last bound read as that bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return Some(bucket_upper_ms(i.min(BUCKETS - 1)));
            }
        }
        Some(bucket_upper_ms(BUCKETS - 1))
    }

    /// How many latencies are certainly at most `ms` (those in buckets whose upper bound is
    /// at most `ms`): a lower bound, so a latency objective is never flattered.
    pub fn at_most(&self, ms: f64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take(BUCKETS)
            .take_while(|(i, _)| bucket_upper_ms(*i) <= ms)
            .map(|(_, c)| u64::from(*c))
            .sum()
    }
}

/// Where a service-level objective stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SloOutcome {
    /// `good / total`; `None` without events.
    pub ratio: Option<f64>,
    /// Share of the error budget left: 1 untouched, 0 spent, below 0 overspent.
    pub budget_remaining: f64,
    /// The bad share over the allowed bad share: 1 burns the budget exactly over the window.
    pub burn_rate: f64,
    /// Whether `ratio >= objective` (true without events).
    pub met: bool,
}

/// Evaluates an objective (the share of good events aimed at, e.g. 0.999) against `good` of
/// `total` events. The error budget is the `1 - objective` share of events allowed to be bad;
/// an objective of 1 allows none, so a single bad event overspends it entirely (remaining
/// -1, burn rate infinite).
pub fn evaluate_slo(objective: f64, good: u64, total: u64) -> SloOutcome {
    let good = good.min(total);
    if total == 0 {
        return SloOutcome { ratio: None, budget_remaining: 1.0, burn_rate: 0.0, met: true };
    }
    let bad = (total - good) as f64;
    let total_f = total as f64;
    let ratio = good as f64 / total_f;
    let allowed = (1.0 - objective.clamp(0.0, 1.0)) * total_f;
    let (budget_remaining, burn_rate) = if allowed > 0.0 {
        (1.0 - bad / allowed, (bad / total_f) / (1.0 - objective.clamp(0.0, 1.0)))
    } else if bad == 0.0 {
        (1.0, 0.0)
    } else {
        (-1.0, f64::INFINITY)
    };
    SloOutcome { ratio: Some(ratio), budget_remaining, burn_rate, met: ratio >= objective }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn buckets_grow_geometrically_and_values_land_at_or_below_their_bound() {
        assert!(close(bucket_upper_ms(0), 0.05));
        assert!(close(bucket_upper_ms(1), 0.0575));
        assert!(bucket_upper_ms(BUCKETS - 1) > 60_000.0);
        for ms in [0.0, 0.01, 0.05, 0.0501, 0.3, 1.0, 2.5, 10.0, 99.9, 250.0, 1234.5, 59_000.0] {
            let b = bucket_of(ms);
            assert!(ms <= bucket_upper_ms(b), "{ms} above its bucket {b}");
            if b > 0 {
                assert!(ms > bucket_upper_ms(b - 1), "{ms} belongs below bucket {b}");
            }
        }
        assert_eq!(bucket_of(1e9), BUCKETS);
        assert_eq!(bucket_of(f64::NAN), 0);
    }

    #[test]
    fn quantiles_are_upper_bounds_within_fifteen_percent() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in 1..=100 {
            h.record(f64::from(ms));
        }
        assert_eq!(h.count(), 100);
        for (q, truth) in [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0)] {
            let got = h.quantile(q).unwrap();
            assert!(got >= truth && got <= truth * 1.15, "q{q}: {got} vs {truth}");
        }
        // one slow outlier moves p99 only when it is more than 1 % of the traffic
        let mut h = LatencyHistogram::default();
        for _ in 0..199 {
            h.record(2.0);
        }
        h.record(5_000.0);
        assert!(h.quantile(0.99).unwrap() < 3.0);
        assert!(h.quantile(1.0).unwrap() >= 5_000.0);
    }

    #[test]
    fn merged_histograms_count_both() {
        let (mut a, mut b) = (LatencyHistogram::default(), LatencyHistogram::default());
        a.record(1.0);
        b.record(100.0);
        b.record(100.0);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert!(a.quantile(0.34).unwrap() >= 100.0);
        assert!(a.quantile(0.33).unwrap() < 1.2);
    }

    #[test]
    fn at_most_never_counts_a_latency_above_the_threshold() {
        let mut h = LatencyHistogram::default();
        for ms in [1.0, 10.0, 200.0, 240.0, 260.0, 1000.0] {
            h.record(ms);
        }
        assert_eq!(h.at_most(250.0), 3, "240 shares a bucket reaching past 250: not counted");
        assert_eq!(h.at_most(300.0), 5);
        assert_eq!(h.at_most(0.01), 0);
    }

    #[test]
    fn slo_budget_and_burn_rate_on_fixed_inputs() {
        // 99.9 % objective, 10,000 requests, 5 bad: half the budget (10) is spent
        let o = evaluate_slo(0.999, 9_995, 10_000);
        assert!(close(o.ratio.unwrap(), 0.9995));
        assert!(close(o.budget_remaining, 0.5));
        assert!(close(o.burn_rate, 0.5));
        assert!(o.met);
        // 20 bad: the budget is overspent twice, burning at 2x
        let o = evaluate_slo(0.999, 9_980, 10_000);
        assert!(close(o.budget_remaining, -1.0));
        assert!(close(o.burn_rate, 2.0));
        assert!(!o.met);
        // exactly on budget still meets the objective
        let o = evaluate_slo(0.95, 95, 100);
        assert!(close(o.budget_remaining, 0.0) && close(o.burn_rate, 1.0) && o.met);
        // no events: nothing spent
        let o = evaluate_slo(0.99, 0, 0);
        assert_eq!(o, SloOutcome { ratio: None, budget_remaining: 1.0, burn_rate: 0.0, met: true });
        // good above total is clamped
        assert!(close(evaluate_slo(0.9, 12, 10).ratio.unwrap(), 1.0));
    }

    #[test]
    fn a_perfect_objective_has_no_budget() {
        let o = evaluate_slo(1.0, 10, 10);
        assert!(o.met && close(o.budget_remaining, 1.0) && close(o.burn_rate, 0.0));
        let o = evaluate_slo(1.0, 9, 10);
        assert!(!o.met && close(o.budget_remaining, -1.0) && o.burn_rate.is_infinite());
    }
}
