//! `memvox-gateway`, the webhook gateway as its own process (a separate deployment): it answers its
//! health and metrics endpoints and stops cleanly on SIGTERM.

#[tokio::test]
async fn it_serves_health_and_metrics_and_stops_cleanly_on_sigterm() {
    memvox_testkit::assert_serves_health_and_stops_on_sigterm(env!("CARGO_BIN_EXE_memvox-gateway"))
        .await;
}
