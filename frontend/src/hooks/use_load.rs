//! `use_load`: fetch on mount and whenever the dependencies change, with loading and error
//! states, a reload, and in-place edits of the loaded value.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;

use crate::services::ApiError;

/// Where a fetch stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    /// Waiting for the answer.
    Loading,
    /// The value.
    Ready(T),
    /// The call failed.
    Failed(ApiError),
}

#[derive(Debug, Clone, PartialEq)]
struct LoadState<T> {
    load: Load<T>,
    reloads: u32,
}

/// An in-place change to a loaded value.
pub type Edit<T> = Box<dyn FnOnce(&mut T)>;

enum LoadAction<T> {
    Start,
    Finish(Result<T, ApiError>),
    Edit(Edit<T>),
    Reload,
}

impl<T: Clone> Reducible for LoadState<T> {
    type Action = LoadAction<T>;

    fn reduce(self: Rc<Self>, action: LoadAction<T>) -> Rc<Self> {
        let reloads = self.reloads;
        match action {
            LoadAction::Start => Rc::new(LoadState { load: Load::Loading, reloads }),
            LoadAction::Finish(Ok(v)) => Rc::new(LoadState { load: Load::Ready(v), reloads }),
            LoadAction::Finish(Err(e)) => Rc::new(LoadState { load: Load::Failed(e), reloads }),
            LoadAction::Edit(f) => match &self.load {
                Load::Ready(v) => {
                    let mut v = v.clone();
                    f(&mut v);
                    Rc::new(LoadState { load: Load::Ready(v), reloads })
                }
                _ => self,
            },
            LoadAction::Reload => {
                Rc::new(LoadState { load: self.load.clone(), reloads: reloads.wrapping_add(1) })
            }
        }
    }
}

/// What [`use_load`] returns.
pub struct LoadHandle<T: Clone + 'static> {
    state: UseReducerHandle<LoadState<T>>,
}

impl<T: Clone + 'static> LoadHandle<T> {
    /// The current state.
    pub fn get(&self) -> &Load<T> {
        &self.state.load
    }

    /// A callback that fetches again with the same dependencies.
    pub fn reloader(&self) -> Callback<()> {
        let d = self.state.dispatcher();
        Callback::from(move |()| d.dispatch(LoadAction::Reload))
    }

    /// A callback that changes the loaded value in place (no-op unless loaded), e.g. to put a
    /// row the server just returned into a list.
    pub fn editor(&self) -> Callback<Edit<T>> {
        let d = self.state.dispatcher();
        Callback::from(move |f| d.dispatch(LoadAction::Edit(f)))
    }
}

/// Runs `fetch(deps)` now and whenever `deps` change or a reload is asked for. Answers to
/// superseded fetches are dropped, so a slow old page never overwrites a newer one.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, fetch: F) -> LoadHandle<T>
where
    T: Clone + 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let state = use_reducer(|| LoadState { load: Load::Loading, reloads: 0 });
    let generation: Rc<RefCell<u64>> = use_mut_ref(|| 0);
    let dispatcher = state.dispatcher();
    use_effect_with((deps, state.reloads), move |(deps, _)| {
        let mine = {
            let mut g = generation.borrow_mut();
            *g += 1;
            *g
        };
        dispatcher.dispatch(LoadAction::Start);
        let fut = fetch(deps.clone());
        {
            let generation = generation.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = fut.await;
                if *generation.borrow() == mine {
                    dispatcher.dispatch(LoadAction::Finish(result));
                }
            });
        }
        move || *generation.borrow_mut() += 1
    });
    LoadHandle { state }
}
