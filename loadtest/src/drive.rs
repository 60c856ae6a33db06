//! The two ways of driving a server, recording latency in HDR histograms (microseconds).
//!
//! * **Open loop** ([`open_loop`]): request *i* is due at `start + i / rate`, whatever happened
//!   to earlier ones, and its latency is measured from that intended time. A server that stalls
//!   therefore cannot hide the stall by slowing the client down (coordinated omission): every
//!   request queued behind the stall is charged the wait. Each due request is sent to every
//!   target at once, so all targets see identical traffic under identical machine conditions.
//! * **Closed loop** ([`closed_loop`]): `concurrency` workers each send a request and wait for
//!   the answer before sending the next, for a fixed time: this measures capacity (throughput)
//!   and latency at that concurrency. Targets are driven one after the other so they do not
//!   compete for the CPU.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::targets::Target;
use crate::traffic::{Generator, Webhook};

/// Latencies and counts of one target in one run.
pub struct Recorded {
    /// Latencies of successful requests, in microseconds.
    pub histogram: Histogram<u64>,
    /// Requests answered 200.
    pub ok: u64,
    /// Requests answered otherwise or failed in transport.
    pub errors: u64,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
}

impl Recorded {
    /// An empty record.
    pub fn new() -> Self {
        Self {
            // 1 µs to 60 s at 3 significant digits; values beyond are clamped.
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("constant bounds are valid"),
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Counts one request and records its latency when it succeeded.
    pub fn record(&mut self, ok: bool, latency: Duration) {
        if ok {
            self.ok += 1;
            let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            self.histogram.saturating_record(micros.max(1));
        } else {
            self.errors += 1;
        }
    }
}

/// Sends one webhook; `true` on a 200.
pub async fn send(client: &reqwest::Client, url: &str, webhook: &Webhook) -> bool {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("elevenlabs-signature", &webhook.signature)
        .body(webhook.body.clone())
        .send()
        .await;
    match response {
        Ok(response) => {
            let ok = response.status() == reqwest::StatusCode::OK;
            ok && response.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}

/// Open loop: `webhooks` sent at `rate` per second to every target; one result per target, and
/// the largest delay of the scheduler itself behind the intended send times.
pub async fn open_loop(
    client: &reqwest::Client,
    targets: &[Target],
    webhooks: Vec<Webhook>,
    rate: u64,
) -> (Vec<Recorded>, Duration) {
    let recorders: Vec<_> = targets
        .iter()
        .map(|_| Arc::new(Mutex::new(Recorded::new())))
        .collect();
    let period = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tasks = JoinSet::new();
    let mut max_lag = Duration::ZERO;
    let start = Instant::now() + Duration::from_millis(10);
    for (index, webhook) in webhooks.into_iter().enumerate() {
        let intended = start + period.mul_f64(index as f64);
        tokio::time::sleep_until(intended).await;
        max_lag = max_lag.max(Instant::now().saturating_duration_since(intended));
        let webhook = Arc::new(webhook);
        for (target, recorder) in targets.iter().zip(&recorders) {
            let (client, url) = (client.clone(), target.url.clone());
            let (webhook, recorder) = (webhook.clone(), recorder.clone());
            tasks.spawn(async move {
                let ok = send(&client, &url, &webhook).await;
                let latency = intended.elapsed();
                lock(&recorder).record(ok, latency);
            });
        }
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    let results = recorders
        .into_iter()
        .map(|recorder| {
            let mut recorded = std::mem::replace(&mut *lock(&recorder), Recorded::new());
            recorded.elapsed = elapsed;
            recorded
        })
        .collect();
    (results, max_lag)
}

/// Open loop over any request: `count` requests, request *i* due at `start + i / rate` and
/// timed from then (see the module documentation), each made by `request(i)` (`true` on
/// success); also the largest delay of the scheduler behind the intended send times.
pub async fn open_loop_with<F, Fut>(count: usize, rate: u64, mut request: F) -> (Recorded, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let recorder = Arc::new(Mutex::new(Recorded::new()));
    let period = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tasks = JoinSet::new();
    let mut max_lag = Duration::ZERO;
    let start = Instant::now() + Duration::from_millis(10);
    for index in 0..count {
        let intended = start + period.mul_f64(index as f64);
        tokio::time::sleep_until(intended).await;
        max_lag = max_lag.max(Instant::now().saturating_duration_since(intended));
        let (sent, recorder) = (request(index), recorder.clone());
        tasks.spawn(async move {
            let ok = sent.await;
            lock(&recorder).record(ok, intended.elapsed());
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let mut recorded = std::mem::replace(&mut *lock(&recorder), Recorded::new());
    recorded.elapsed = start.elapsed();
    (recorded, max_lag)
}

/// Closed loop: `concurrency` workers send freshly stamped webhooks (unique, signed as sent, see
/// [`Generator::stamper`]) to `target` for `seconds`.
pub async fn closed_loop(
    client: &reqwest::Client,
    target: &Target,
    secret: &str,
    concurrency: usize,
    seconds: u64,
    seed: u64,
) -> Recorded {
    closed_loop_with(concurrency, Duration::from_secs(seconds), |worker| {
        let (client, url) = (client.clone(), target.url.clone());
        let mut stamper = Generator::new(secret, 500, seed ^ (worker as u64 + 1))
            .stamper(8, crate::now_unix_secs());
        move || {
            let webhook = stamper.next(crate::now_unix_secs());
            let (client, url) = (client.clone(), url.clone());
            async move { send(&client, &url, &webhook).await }
        }
    })
    .await
}

/// Closed loop over any request: `concurrency` workers, each built by `worker(index)`, call
/// their request function and wait for it (`true` on success) until `duration` has passed.
pub async fn closed_loop_with<W, F, Fut>(
    concurrency: usize,
    duration: Duration,
    mut worker: W,
) -> Recorded
where
    W: FnMut(usize) -> F,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let recorder = Arc::new(Mutex::new(Recorded::new()));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for index in 0..concurrency {
        let mut request = worker(index);
        let recorder = recorder.clone();
        workers.spawn(async move {
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = request().await;
                lock(&recorder).record(ok, sent.elapsed());
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut recorded = std::mem::replace(&mut *lock(&recorder), Recorded::new());
    recorded.elapsed = start.elapsed();
    recorded
}

fn lock(recorder: &Mutex<Recorded>) -> std::sync::MutexGuard<'_, Recorded> {
    recorder.lock().unwrap_or_else(PoisonError::into_inner)
}
