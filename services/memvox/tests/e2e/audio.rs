//! Post-call audio end to end on one embedded app, through the real gateway and REST routers
//! on loopback: the file the gateway writes holds none of the audio in clear and reads back
//! with the app's keys, and erasing the caller deletes it.

use memvox_config::Secret;

use crate::support;
use crate::support::{Deployment, Pipeline, accept, serve};

const SECRET: &str = "wsec_audio_test";
const ADMIN: &str = "admin-token-audio-test";
const AUDIO: &str = include_str!("../../../../fixtures/elevenlabs/post_call_audio.json");

#[tokio::test]
async fn audio_is_stored_encrypted_and_erased_with_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    let audio_dir = dir.path().join("audio");
    let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
        config.gateway.webhook_secrets = vec![Secret::from(SECRET)];
        config.gateway.audio_dir = Some(audio_dir.clone());
        config.gateway.rate_limit_per_second = 0;
        config.query.admin_token_sha256 = vec![memvox_query::hash_token(ADMIN)];
        config.query.rate_limit_per_second = 0;
    })
    .await;
    let gateway = serve(memvox_gateway::router(app.gateway().unwrap())).await;
    let query = serve(memvox_query::router(app.query().unwrap())).await;
    let client = reqwest::Client::new();

    let now = memvox_core::Clock::system().now_secs();
    let response = client
        .post(format!("{gateway}/webhook/post-call"))
        .header("content-type", "application/json")
        .header(
            memvox_elevenlabs::SIGNATURE_HEADER,
            memvox_elevenlabs::sign(SECRET.as_bytes(), now, AUDIO.as_bytes()),
        )
        .body(AUDIO)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let delivered: serde_json::Value = serde_json::from_str(AUDIO).unwrap();
    let conversation = delivered["data"]["conversation_id"].as_str().unwrap();
    let full_audio = delivered["data"]["full_audio"].as_str().unwrap();
    let file = memvox_gateway::audio_path(&audio_dir, conversation);
    let on_disk = std::fs::read_to_string(&file).unwrap();
    assert!(!on_disk.contains(full_audio), "encrypted at rest");
    assert!(on_disk.starts_with(memvox_crypto::ENVELOPE_PREFIX));
    let read = memvox_gateway::read_audio(&audio_dir, conversation, &app.keyring)
        .await
        .unwrap();
    assert_eq!(read, full_audio);

    // The call's transcription names the caller; erasing them deletes the audio file too.
    accept(&app, conversation, support::FIXTURE.to_owned()).await;
    Pipeline::new(&app).run().await;
    let call = app.store.get_call(conversation).await.unwrap().unwrap();
    let user = call.conversation.user_id.unwrap();
    let response = client
        .delete(format!("{query}/v1/users/{user}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let receipt: serde_json::Value = response.json().await.unwrap();
    assert_eq!(receipt["audio_files"], 1, "{receipt}");
    assert!(!file.exists(), "the audio file is deleted");
}
