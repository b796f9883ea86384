//! `use_settled`: a choice from a `<select>` that changes what a page shows. It is shown at
//! once but applied only once it has settled, so arrowing through a closed select (Chromium
//! fires `change` on every arrow key) costs one request, not one per option.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::prelude::*;

/// How long a select must stay on one option before it is applied.
pub const SETTLE_MS: u32 = 400;

/// What [`use_settled`] returns: the value to show and the callback for new choices.
pub struct Settled<Q> {
    /// The pending choice, or `current` when none is pending.
    pub shown: Q,
    /// Records a choice and (re)starts the wait.
    pub choose: Callback<Q>,
}

/// `current` is the applied value (e.g. from the URL); `apply` runs with the last choice
/// once no other choice came for [`SETTLE_MS`]. A change of `current` (Back, a link) drops
/// any pending choice.
#[hook]
pub fn use_settled<Q: Clone + PartialEq + 'static>(current: Q, apply: Callback<Q>) -> Settled<Q> {
    let pending = use_state(|| None::<Q>);
    let timer: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);
    {
        let (pending, timer) = (pending.clone(), timer.clone());
        use_effect_with(current.clone(), move |_| {
            pending.set(None);
            // Dropping the pending timer cancels it; so does leaving the page.
            move || drop(timer.borrow_mut().take())
        });
    }
    let shown = (*pending).clone().unwrap_or(current);
    let choose = Callback::from(move |q: Q| {
        pending.set(Some(q.clone()));
        let apply = apply.clone();
        *timer.borrow_mut() = Some(Timeout::new(SETTLE_MS, move || apply.emit(q)));
    });
    Settled { shown, choose }
}
