//! `memvox elevenlabs import`: the conversations of a call-start window, page after page, with
//! where the run stands saved after every page, so a run that stops (Ctrl-C, a crash, a key
//! revoked, the API down longer than the retries) resumes at its last page when run again.
//!
//! Each agent asked for (or every agent, `import:*`) is its own import in the store. A run's
//! window is the one asked for (`--since`, `--until`), else from where the last finished run of
//! that import ended (one second earlier: whether the API's bounds include their second is
//! undocumented, and a conversation seen twice is a duplicate, not a second call) until now. An
//! unfinished run is finished first: asking for another window meanwhile is an error, unless
//! `--restart` drops it. A cursor the API no longer accepts (400, 422) starts the window over
//! from its first page, once. Conversations left pending by earlier runs are looked at last.

use memvox_elevenlabs::api::{ApiError, ListQuery};
use memvox_store::ImportState;

use super::report::Tally;
use super::{ImportError, Importer, Report};

/// A call-start window, unix seconds; `None` bounds are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// `call_start_after_unix`.
    pub after: Option<u64>,
    /// `call_start_before_unix`; `None`: now.
    pub before: Option<u64>,
}

/// What `memvox elevenlabs import` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Agents whose calls are imported; empty: every agent.
    pub agent_ids: Vec<String>,
    /// The window; default: from the end of the last finished run until now.
    pub window: Window,
    /// Drop an unfinished run and start the window afresh.
    pub restart: bool,
}

impl Importer {
    /// Imports what `options` asks for, then the conversations left pending, telling `observer`
    /// the tally after every conversation.
    ///
    /// # Errors
    /// [`ImportError`] when a run must stop; what it stored stays, and running it again resumes.
    pub async fn run(
        &self,
        options: &RunOptions,
        observer: &mut (dyn FnMut(&Report) + Send),
    ) -> Result<Report, ImportError> {
        let mut tally = Tally::new(observer);
        let agents: Vec<Option<&str>> = if options.agent_ids.is_empty() {
            vec![None]
        } else {
            options.agent_ids.iter().map(|a| Some(a.as_str())).collect()
        };
        for agent in agents {
            self.run_window(agent, options, &mut tally).await?;
        }
        self.import_pending(&mut tally).await?;
        Ok(tally.report)
    }

    /// One agent's (or every agent's) window.
    async fn run_window(
        &self,
        agent: Option<&str>,
        options: &RunOptions,
        tally: &mut Tally<'_>,
    ) -> Result<(), ImportError> {
        let name = format!("import:{}", agent.unwrap_or("*"));
        let mut state = self.begin(&name, options).await?;
        let window = (secs(state.window_after), secs(state.window_before));
        let mut cursor_refused = false;
        loop {
            let query = ListQuery {
                agent_id: agent,
                after_unix: window.0,
                before_unix: window.1,
                cursor: state.cursor.as_deref(),
                page_size: self.page_size,
            };
            let page = match self.client.list(&query).await {
                Ok(page) => page,
                Err(ApiError::Refused { status, detail })
                    if state.cursor.is_some() && !cursor_refused =>
                {
                    tracing::warn!(import = %name, status, %detail, "the saved cursor is no longer accepted: listing the window again from its first page");
                    cursor_refused = true;
                    state.cursor = None;
                    self.save(&state).await?;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            tally.report.pages += 1;
            self.import_page(&page.conversations, None, tally).await?;
            match page.next() {
                Some(next) => state.cursor = Some(next.to_owned()),
                None => {
                    state.imported_until = state.imported_until.max(state.window_before);
                    state.window_after = None;
                    state.window_before = None;
                    state.cursor = None;
                }
            }
            self.save(&state).await?;
            if state.window_before.is_none() {
                return Ok(());
            }
        }
    }

    /// The state of import `name` with its run under way: the unfinished one, or a new one
    /// over the window asked for (saved before its first page).
    async fn begin(&self, name: &str, options: &RunOptions) -> Result<ImportState, ImportError> {
        let mut state = self
            .state
            .store
            .import_state(name)
            .await?
            .unwrap_or_else(|| ImportState {
                name: name.to_owned(),
                ..ImportState::default()
            });
        if options.restart {
            state.window_before = None;
            state.cursor = None;
        }
        let asked = options.window;
        if state.window_before.is_some() {
            let same = (asked.after.is_none() || secs(state.window_after) == asked.after)
                && (asked.before.is_none() || secs(state.window_before) == asked.before);
            if !same {
                return Err(ImportError::Unfinished {
                    name: name.to_owned(),
                });
            }
            tracing::info!(import = %name, "resuming the unfinished import");
            return Ok(state);
        }
        let now = self.state.clock.now_secs();
        let after = asked
            .after
            .or_else(|| secs(state.imported_until).map(|until| until.saturating_sub(1)));
        state.window_after = after.map(unix);
        state.window_before = Some(unix(asked.before.unwrap_or(now)));
        state.cursor = None;
        self.save(&state).await?;
        Ok(state)
    }

    async fn save(&self, state: &ImportState) -> Result<(), ImportError> {
        let now = self.state.clock.now();
        Ok(self.state.store.save_import_state(state, now).await?)
    }
}

/// A stored time as the API's unix seconds.
fn secs(stored: Option<i64>) -> Option<u64> {
    stored.and_then(|t| u64::try_from(t).ok())
}

/// The API's unix seconds as stored.
fn unix(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}
