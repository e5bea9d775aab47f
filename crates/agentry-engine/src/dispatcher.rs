//! The dispatcher: a pool of workers fed from the ready queue, woken by sessions ending, by
//! the next `ready_at`, and by the lease tick (renewals, recovery, merge-close); never by a
//! fixed polling sleep.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use agentry_core::scope_lock::{ScopeLock, ScopeWait, holding_lock, scope_wait};
use agentry_core::{EventType, Issue, IssueId, Status, Timestamp};
use agentry_store::IssueFilter;
use agentry_store::session::{ClaimAttempt, ClaimHolder};
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::driver::{SessionReport, Stops, run_session};
use crate::identity::session_id;
use crate::summary::outcome_name;
use crate::wake::WakeListener;
use crate::{Engine, RunSummary, heartbeat, merge_watch, recovery, scope_lock, store_retry, wake};

#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Stop once nothing is ready and nothing is in progress.
    pub until_idle: bool,
}

/// A session this dispatcher is running.
struct Active {
    scope: Vec<String>,
    cancel: CancellationToken,
    /// Its task, by which a task that failed is known.
    task: tokio::task::Id,
}

struct Pool {
    engine: Arc<Engine>,
    sessions: JoinSet<(IssueId, SessionReport)>,
    /// No claims before this time: an agent reported a rate limit that lifts then.
    paused_until: Option<Timestamp>,
    active: HashMap<IssueId, Active>,
    /// Issues already noted as waiting for an overlapping scope, with the issue they wait for.
    noted_waits: HashSet<(IssueId, IssueId)>,
    /// The scope locks, as the last dispatch pass read them.
    locks: Vec<ScopeLock>,
    stop: CancellationToken,
    summary: RunSummary,
}

/// Runs sessions until `stop` fires (or, with `until_idle`, until there is nothing to do).
/// On stop it claims nothing more, gives running sessions the grace period, then stops their
/// agents; their issues go back to the queue.
pub async fn run(
    engine: Arc<Engine>,
    options: RunOptions,
    stop: CancellationToken,
) -> Result<RunSummary, String> {
    for line in recovery::recover(&engine)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(operation = "recovery", "{line}");
    }
    let mut pool = Pool {
        engine: engine.clone(),
        sessions: JoinSet::new(),
        active: HashMap::new(),
        noted_waits: HashSet::new(),
        locks: Vec::new(),
        paused_until: None,
        stop,
        summary: RunSummary::default(),
    };
    heartbeat::beat(&engine, true);
    let wake = WakeListener::bind(&engine.scratch);
    let mut lease_tick = tokio::time::interval(engine.settings.lease_tick());
    lease_tick.tick().await;
    while !pool.stop.is_cancelled() {
        pool.dispatch()?;
        if options.until_idle && pool.idle()? {
            break;
        }
        let next_ready = pool.next_ready_instant()?;
        tokio::select! {
            Some(ended) = pool.sessions.join_next(), if !pool.sessions.is_empty() => {
                pool.ended(ended);
                pool.take_back_lost_claims().await;
            }
            _ = sleep_until(next_ready) => {}
            _ = lease_tick.tick() => pool.housekeeping().await,
            _ = wake.woken() => {}
            _ = pool.stop.cancelled() => {}
        }
    }
    pool.wind_down().await;
    heartbeat::beat(&engine, false);
    pool.summary.issues = issue_counts(&engine)?;
    Ok(pool.summary)
}

impl Pool {
    /// Claims ready issues for the free workers, in queue order, skipping any whose scope may
    /// overlap a running session's (of any process) or another issue's scope lock.
    fn dispatch(&mut self) -> Result<(), String> {
        // A store deleted or replaced under this process takes no more work: the run ends,
        // saying so, rather than wait for ever on claims it can no longer release.
        self.engine.store.check_file().map_err(|e| e.to_string())?;
        let workers = self.engine.settings.max_workers;
        let now = Timestamp::now();
        self.locks =
            scope_lock::held(self.engine.store.as_ref(), now).map_err(|e| e.to_string())?;
        if self.active.len() >= workers || self.paused_until.is_some_and(|until| until > now) {
            return Ok(());
        }
        if self.day_budget_spent(now)? {
            return Ok(());
        }
        // A few more than the free workers, for the ones held back by a running scope or a
        // lock; while every one looked at is held back, a four times longer stretch of the
        // queue is read, so held issues never hide the ones behind them.
        let mut look_at = (workers - self.active.len()) * 4;
        loop {
            let candidates = self
                .engine
                .store
                .ready(now, look_at)
                .map_err(|e| e.to_string())?;
            let whole_queue = candidates.len() < look_at;
            self.start_ready(candidates, now)?;
            if self.active.len() >= workers || whole_queue {
                return Ok(());
            }
            look_at = look_at.saturating_mul(4);
        }
    }

    /// Claims `candidates` in order for the free workers, skipping those held back. The store
    /// decides, for every process, as it claims; what this pool already knows (its own
    /// sessions' scopes, the locks it read) holds an issue back without a write.
    fn start_ready(&mut self, candidates: Vec<Issue>, now: Timestamp) -> Result<(), String> {
        for issue in candidates {
            if self.active.len() >= self.engine.settings.max_workers {
                break;
            }
            if self.active.contains_key(&issue.id) {
                continue;
            }
            let running = self.active.iter().map(|(id, a)| (id, a.scope.as_slice()));
            match scope_wait(&issue, running, &self.locks) {
                Some(wait) => self.note_wait(&issue, wait),
                None => self.claim_and_start(issue, now)?,
            }
        }
        Ok(())
    }

    /// Once the agents have cost the daily budget, nothing is claimed until midnight UTC.
    fn day_budget_spent(&mut self, now: Timestamp) -> Result<bool, String> {
        let budget = self.engine.settings.per_day_usd;
        if budget <= 0.0 {
            return Ok(false);
        }
        let spent = self
            .engine
            .store
            .cost_since(now.day_start())
            .map_err(|e| e.to_string())?;
        if spent < budget {
            return Ok(false);
        }
        let tomorrow = now.day_start().plus_secs(86_400);
        tracing::warn!(
            operation = "dispatch",
            "the daily budget is spent (${spent:.4} of ${budget:.4}): no new sessions until {tomorrow}"
        );
        self.paused_until = Some(tomorrow);
        Ok(true)
    }

    /// Records a `SCOPE_WAIT` on `issue` the first time it waits for an issue.
    fn note_wait(&mut self, issue: &Issue, wait: ScopeWait) {
        if !self
            .noted_waits
            .insert((issue.id.clone(), wait.waits_for.clone()))
        {
            return;
        }
        let (data, now) = (json!(wait), Timestamp::now());
        if let Err(err) =
            self.engine
                .store
                .append_event(&issue.id, EventType::ScopeWait, &data, now)
        {
            tracing::warn!(operation = "dispatch", issue_id = %issue.id, "could not note the scope wait: {err}");
        }
    }

    fn claim_and_start(&mut self, issue: Issue, now: Timestamp) -> Result<(), String> {
        let identity = &self.engine.identity;
        let holder = ClaimHolder {
            session_id: session_id(),
            orchestrator_id: identity.orchestrator_id.clone(),
            host: identity.host.clone(),
            pid: identity.pid,
        };
        let lease_until = now.plus_secs(self.engine.settings.lease_secs as i64);
        let attempt = self
            .engine
            .store
            .claim(&issue.id, &holder, lease_until, now)
            .map_err(|e| e.to_string())?;
        let claim = match attempt {
            ClaimAttempt::Claimed(claim) => claim,
            ClaimAttempt::Taken => return Ok(()),
            ClaimAttempt::WaitsFor(wait) => {
                self.note_wait(&issue, wait);
                return Ok(());
            }
        };
        let waited = (now.unix_micros() - issue.ready_at.unix_micros()).max(0);
        crate::timings::DISPATCH_LATENCY.record(std::time::Duration::from_micros(waited as u64));
        let cancel = CancellationToken::new();
        let stops = Stops {
            cancel: cancel.clone(),
            shutdown: self.stop.clone(),
        };
        let (engine, id, scope) = (self.engine.clone(), issue.id.clone(), issue.scope.clone());
        let key = id.clone();
        let task = self
            .sessions
            .spawn(async move { (id, run_session(engine, claim, issue, stops).await) })
            .id();
        self.active.insert(
            key,
            Active {
                scope,
                cancel,
                task,
            },
        );
        Ok(())
    }

    fn ended(&mut self, ended: Result<(IssueId, SessionReport), tokio::task::JoinError>) {
        match ended {
            Ok((
                id,
                SessionReport {
                    outcome,
                    rate_limited_until,
                },
            )) => {
                if let Some(until) = rate_limited_until {
                    tracing::warn!(operation = "dispatch", issue_id = %id, "an agent is rate limited: no claims until {until}");
                    self.paused_until = self.paused_until.max(Some(until));
                    heartbeat::note_rate_limit(&self.engine, &id, until);
                }
                tracing::info!(operation = "session", issue_id = %id, outcome = outcome_name(&outcome), "session ended");
                let scoped = self.active.remove(&id).is_some_and(|a| !a.scope.is_empty());
                self.noted_waits.retain(|(_, holder)| *holder != id);
                self.summary.count(&outcome);
                if scoped {
                    self.wake_other_dispatchers();
                }
            }
            // A session task that panicked runs no more: its claim is taken back as a lost one.
            Err(err) => {
                tracing::error!(operation = "session", "a session task failed: {err}");
                self.active.retain(|_, active| active.task != err.id());
            }
        }
    }

    /// Dispatchers of other processes may wait for the scope of a session that ended. The
    /// send never blocks: a full socket (this dispatcher's own among them) has a wake pending.
    fn wake_other_dispatchers(&self) {
        wake::wake_dispatchers(&self.engine.scratch);
    }

    /// Nothing runs here and nothing can start. A ready issue held back by a lock is no work:
    /// with no session of this pool running, the lock's owner is not being worked on here, so
    /// only a person (a release, the owner closed) can let the issue start.
    fn idle(&self) -> Result<bool, String> {
        if !self.active.is_empty() {
            return Ok(false);
        }
        let store = &self.engine.store;
        // While claims are paused (a rate limit, a spent budget) nothing can start: idle.
        let paused = self
            .paused_until
            .is_some_and(|until| until > Timestamp::now());
        let look_at = if self.locks.is_empty() { 1 } else { usize::MAX };
        let nothing_ready = paused
            || store
                .ready(Timestamp::now(), look_at)
                .map_err(|e| e.to_string())?
                .iter()
                .all(|issue| holding_lock(issue, &self.locks).is_some());
        Ok(nothing_ready && store.claims().map_err(|e| e.to_string())?.is_empty())
    }

    fn next_ready_instant(&self) -> Result<Instant, String> {
        let now = Timestamp::now();
        let next = self
            .engine
            .store
            .next_ready_at(now)
            .map_err(|e| e.to_string())?;
        let wait_micros = next
            .map_or(i64::MAX / 2, |at| at.unix_micros() - now.unix_micros())
            .max(0);
        Ok(
            Instant::now()
                + std::time::Duration::from_micros(wait_micros.min(3_600_000_000) as u64),
        )
    }

    async fn housekeeping(&mut self) {
        heartbeat::beat(&self.engine, true);
        self.take_back_lost_claims().await;
        match recovery::recover(&self.engine).await {
            Ok(lines) => lines
                .iter()
                .for_each(|line| tracing::info!(operation = "recovery", "{line}")),
            Err(err) => tracing::warn!(operation = "recovery", "{err}"),
        }
        match merge_watch::scan(&self.engine).await {
            Ok(results) => {
                for (id, result) in results {
                    tracing::info!(operation = "merge_close", issue_id = %id, "{result:?}");
                }
            }
            Err(err) => tracing::warn!(operation = "merge_close", "{err}"),
        }
    }

    /// Lets running sessions finish within the grace period, then stops their agents.
    async fn wind_down(&mut self) {
        let deadline = Instant::now() + self.engine.settings.shutdown_grace;
        while !self.sessions.is_empty() {
            tokio::select! {
                Some(ended) = self.sessions.join_next() => self.ended(ended),
                _ = sleep_until(deadline) => break,
            }
        }
        for active in self.active.values() {
            active.cancel.cancel();
        }
        while let Some(ended) = self.sessions.join_next().await {
            self.ended(ended);
        }
        self.take_back_lost_claims().await;
    }

    /// Takes back the claims this orchestrator holds for sessions it no longer runs: one whose
    /// end could not be written (a full disk), or whose task failed. Recovery leaves a live
    /// orchestrator's claims alone, so without this the issue would stay in progress, and
    /// `--until-idle` would wait for it for ever.
    async fn take_back_lost_claims(&self) {
        let claims = match self.engine.store.claims() {
            Ok(claims) => claims,
            Err(err) => {
                tracing::warn!(operation = "recovery", "cannot read the claims: {err}");
                return;
            }
        };
        let ours = &self.engine.identity.orchestrator_id;
        for claim in claims
            .iter()
            .filter(|c| c.orchestrator_id == *ours && !self.active.contains_key(&c.issue_id))
        {
            let engine = self.engine.as_ref();
            let taken = store_retry::retried("a lost claim's release", || {
                recovery::take_back(engine, claim, recovery::UNHELD, Timestamp::now())
            });
            match taken.await {
                Ok(went) => {
                    tracing::warn!(operation = "recovery", issue_id = %claim.issue_id, "{}; {went}", recovery::UNHELD)
                }
                Err(err) => {
                    tracing::warn!(operation = "recovery", issue_id = %claim.issue_id, "cannot take back the claim of an ended session: {err}")
                }
            }
        }
    }
}

fn issue_counts(engine: &Engine) -> Result<std::collections::BTreeMap<String, usize>, String> {
    let mut counts = std::collections::BTreeMap::new();
    for status in Status::ALL {
        let filter = IssueFilter {
            status: Some(status),
            label: None,
        };
        let n = engine
            .store
            .list_issues(&filter)
            .map_err(|e| e.to_string())?
            .len();
        if n > 0 {
            counts.insert(status.to_string(), n);
        }
    }
    Ok(counts)
}
