//! `use_polled`: like [`use_load`](super::use_load), and then fetched again every few seconds
//! while the page is open, keeping the value in hand (no "Loading" flash, a failed re-read
//! keeps the last value). For views that show numbers others change: units left in a flash
//! sale, the admin's live view of one.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use gloo::timers::callback::Interval;
use yew::prelude::*;

use super::{Edit, Load};
use crate::clock::now_ms;
use crate::services::ApiError;

/// Where a polled fetch stands.
#[derive(Debug, Clone, PartialEq)]
pub struct PollState<T> {
    /// The value, or why there is none.
    pub load: Load<T>,
    /// When (local `Date.now()`, ms) the value in hand arrived: countdowns count from here.
    pub at_ms: f64,
    /// The last re-read failed (the value in hand is older than it should be).
    pub stale: Option<ApiError>,
    reloads: u32,
}

impl<T> Default for PollState<T> {
    fn default() -> Self {
        PollState { load: Load::Loading, at_ms: 0.0, stale: None, reloads: 0 }
    }
}

/// Changes to [`PollState`].
pub enum PollAction<T> {
    /// A first fetch starts: show "Loading".
    Start,
    /// The answer of a first fetch, and when it came.
    Loaded(Result<T, ApiError>, f64),
    /// The answer of a re-read, and when it came.
    Refreshed(Result<T, ApiError>, f64),
    /// Change the value in hand.
    Edit(Edit<T>),
    /// Start over (with "Loading"), e.g. Retry after an error.
    Reload,
}

impl<T: Clone> Reducible for PollState<T> {
    type Action = PollAction<T>;

    fn reduce(self: Rc<Self>, action: PollAction<T>) -> Rc<Self> {
        let reloads = self.reloads;
        Rc::new(match action {
            PollAction::Start => PollState { reloads, ..PollState::default() },
            PollAction::Loaded(Ok(v), at) | PollAction::Refreshed(Ok(v), at) => {
                PollState { load: Load::Ready(v), at_ms: at, stale: None, reloads }
            }
            PollAction::Loaded(Err(e), at) => {
                PollState { load: Load::Failed(e), at_ms: at, stale: None, reloads }
            }
            PollAction::Refreshed(Err(e), at) => match &self.load {
                Load::Ready(_) => PollState { stale: Some(e), ..(*self).clone() },
                _ => PollState { load: Load::Failed(e), at_ms: at, stale: None, reloads },
            },
            PollAction::Edit(f) => match &self.load {
                Load::Ready(v) => {
                    let mut v = v.clone();
                    f(&mut v);
                    PollState { load: Load::Ready(v), ..(*self).clone() }
                }
                _ => return self,
            },
            PollAction::Reload => PollState { reloads: reloads.wrapping_add(1), ..(*self).clone() },
        })
    }
}

/// Where the current polling's "read now" lives (none between pages).
type Kick = Rc<RefCell<Option<Rc<dyn Fn()>>>>;

/// What [`use_polled`] returns.
pub struct Polled<T: Clone + 'static> {
    state: UseReducerHandle<PollState<T>>,
    kick: Kick,
}

impl<T: Clone + 'static> Polled<T> {
    /// The value or why there is none.
    pub fn get(&self) -> &Load<T> {
        &self.state.load
    }

    /// When the value in hand arrived (local ms).
    pub fn at_ms(&self) -> f64 {
        self.state.at_ms
    }

    /// Why the last re-read failed, while the value shown is older than it should be.
    pub fn stale(&self) -> Option<&ApiError> {
        self.state.stale.as_ref()
    }

    /// Reads again now, keeping the value in hand meanwhile (skipped when a read is under way).
    pub fn refresher(&self) -> Callback<()> {
        let kick = self.kick.clone();
        Callback::from(move |()| {
            let run = kick.borrow().clone();
            if let Some(run) = run {
                run();
            }
        })
    }

    /// Starts over with "Loading" (Retry).
    pub fn reloader(&self) -> Callback<()> {
        let d = self.state.dispatcher();
        Callback::from(move |()| d.dispatch(PollAction::Reload))
    }

    /// Changes the value in hand (no-op unless loaded).
    pub fn editor(&self) -> Callback<Edit<T>> {
        let d = self.state.dispatcher();
        Callback::from(move |f| d.dispatch(PollAction::Edit(f)))
    }
}

/// Runs `fetch(deps)` now, again every `every_ms` and on [`Polled::refresher`], and afresh
/// whenever `deps` change. Never more than one read at a time; answers of superseded reads
/// (older `deps`, a page left) are dropped.
#[hook]
pub fn use_polled<T, D, F, Fut>(deps: D, every_ms: u32, fetch: F) -> Polled<T>
where
    T: Clone + 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_polled_while(deps, every_ms, true, fetch)
}

/// [`use_polled`] whose timed re-reads happen only while `running` (a paused view keeps its
/// value and reads nothing until resumed; first reads and [`Polled::refresher`] still read).
#[hook]
pub fn use_polled_while<T, D, F, Fut>(deps: D, every_ms: u32, running: bool, fetch: F) -> Polled<T>
where
    T: Clone + 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let state = use_reducer(PollState::<T>::default);
    // Bumped by every new first read and by leaving: answers of older reads are dropped.
    let generation: Rc<Cell<u64>> = use_memo((), |_| Cell::new(0));
    let kick: Kick = use_mut_ref(|| None);
    let dispatcher = state.dispatcher();
    {
        let kick = kick.clone();
        use_effect_with((deps, state.reloads), move |(deps, _)| {
            let mine = generation.get().wrapping_add(1);
            generation.set(mine);
            dispatcher.dispatch(PollAction::Start);
            let busy = Rc::new(Cell::new(false));
            let read: Rc<dyn Fn(bool)> = {
                let (deps, generation) = (deps.clone(), generation.clone());
                Rc::new(move |first: bool| {
                    if busy.get() {
                        return;
                    }
                    busy.set(true);
                    let fut = fetch(deps.clone());
                    let (busy, generation, dispatcher) =
                        (busy.clone(), generation.clone(), dispatcher.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer = fut.await;
                        busy.set(false);
                        if generation.get() == mine {
                            let at = now_ms();
                            dispatcher.dispatch(if first {
                                PollAction::Loaded(answer, at)
                            } else {
                                PollAction::Refreshed(answer, at)
                            });
                        }
                    });
                })
            };
            read(true);
            *kick.borrow_mut() = Some(Rc::new(move || read(false)));
            move || {
                generation.set(generation.get().wrapping_add(1));
                kick.borrow_mut().take();
            }
        });
    }
    {
        // The clock is separate from the reads: pausing or resuming keeps the value in hand.
        let kick = kick.clone();
        use_effect_with((every_ms, running), move |&(every, running)| {
            let ticker = running.then(|| {
                Interval::new(every.max(500), move || {
                    let run = kick.borrow().clone();
                    if let Some(run) = run {
                        run();
                    }
                })
            });
            // Dropping the interval stops it.
            move || drop(ticker)
        });
    }
    Polled { state, kick }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: PollState<u32>, a: PollAction<u32>) -> PollState<u32> {
        (*Rc::new(s).reduce(a)).clone()
    }

    #[test]
    fn a_failed_re_read_keeps_the_value_and_says_it_is_stale() {
        let ready = reduce(PollState::default(), PollAction::Loaded(Ok(3), 1000.0));
        assert_eq!((ready.load.clone(), ready.at_ms), (Load::Ready(3), 1000.0));
        let stale = reduce(ready, PollAction::Refreshed(Err(ApiError::Timeout), 4000.0));
        assert_eq!(stale.load, Load::Ready(3));
        assert_eq!(stale.at_ms, 1000.0, "countdowns still count from the value's answer");
        assert_eq!(stale.stale, Some(ApiError::Timeout));
        let fresh = reduce(stale, PollAction::Refreshed(Ok(2), 7000.0));
        assert_eq!((fresh.load, fresh.at_ms, fresh.stale), (Load::Ready(2), 7000.0, None));
    }

    #[test]
    fn a_re_read_after_a_failed_first_read_recovers() {
        let failed = reduce(PollState::default(), PollAction::Loaded(Err(ApiError::Timeout), 1.0));
        assert_eq!(failed.load, Load::Failed(ApiError::Timeout));
        assert_eq!(reduce(failed, PollAction::Refreshed(Ok(5), 2.0)).load, Load::Ready(5));
    }

    #[test]
    fn starting_over_shows_loading_and_edits_change_the_value_in_hand() {
        let ready = reduce(PollState::default(), PollAction::Loaded(Ok(3), 1.0));
        let edited = reduce(ready, PollAction::Edit(Box::new(|v| *v += 1)));
        assert_eq!(edited.load, Load::Ready(4));
        let reload = reduce(edited, PollAction::Reload);
        assert_eq!(reload.reloads, 1);
        assert_eq!(reduce(reload, PollAction::Start).load, Load::Loading);
        let loading = reduce(PollState::default(), PollAction::Edit(Box::new(|v| *v += 1)));
        assert_eq!(loading.load, Load::Loading);
    }
}
