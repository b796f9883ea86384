//! `use_now`: the local clock, re-rendering the component at a steady pace (for countdowns).

use gloo::timers::callback::Interval;
use yew::prelude::*;

use crate::clock::now_ms;

/// `Date.now()` in milliseconds, refreshed every `every_ms` (the component re-renders each
/// time). Keep it in small components (a countdown), not in whole pages.
#[hook]
pub fn use_now(every_ms: u32) -> f64 {
    let now = use_state(now_ms);
    {
        let now = now.clone();
        use_effect_with(every_ms, move |&every| {
            let ticker = Interval::new(every.max(100), move || now.set(now_ms()));
            // Dropping the interval stops it.
            move || drop(ticker)
        });
    }
    *now
}
