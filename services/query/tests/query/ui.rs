//! The memory inspector (`/ui`): signing in, pages behind a session, the security headers,
//! caller data escaped, forms refused without their session's CSRF token; most cases on both
//! store backends. `ui_changes` covers what the inspector changes.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use memvox_core::Sector;
use memvox_query::router;
use memvox_query::ui::CONTENT_SECURITY_POLICY;
use memvox_testkit::Backend;

use crate::support::{ADMIN_TOKEN, Harness, NOW, TOKEN, TestEmbedder, add_memory};

/// An answer: status, headers, body as text.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let start = self.body.find(r#"name="csrf" value=""#).expect("a form") + 19;
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// Sends `request` to the service.
pub async fn send(h: &Harness, request: Request<Body>) -> Page {
    let response = memvox_testkit::http::respond(&router(h.state.clone()), request).await;
    let (status, headers) = (response.status(), response.headers().clone());
    let body = memvox_testkit::http::body(response).await;
    Page {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// `GET uri` with the session `cookie` (if any).
pub async fn get(h: &Harness, cookie: Option<&str>, uri: &str) -> Page {
    let mut request = Request::get(uri).header(header::HOST, "localhost:8080");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(h, request.body(Body::empty()).unwrap()).await
}

/// `POST uri` with `fields` form-encoded and the session `cookie` (if any).
pub async fn post(h: &Harness, cookie: Option<&str>, uri: &str, fields: &[(&str, &str)]) -> Page {
    let mut request = Request::post(uri)
        .header(header::HOST, "localhost:8080")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let body = serde_urlencoded::to_string(fields).unwrap();
    send(h, request.body(Body::from(body)).unwrap()).await
}

/// Signs in with the admin token; the `Cookie` header value of the session.
pub async fn sign_in(h: &Harness) -> String {
    let page = post(h, None, "/ui/login", &[("token", ADMIN_TOKEN)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let set = page.headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The vector of the memories these tests add.
pub const TEA: [f32; 4] = [1.0, 0.0, 0.0, 0.0];

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[("tea", TEA)])
}

/// A service over a fresh store of `backend` with `embedder`, where user `u1` has one semantic
/// memory, `content` (vector [`TEA`]); the memory's id.
pub async fn with_memory(
    backend: Backend,
    embedder: TestEmbedder,
    content: &str,
) -> (Harness, i64) {
    let h = Harness::new(backend, embedder).await;
    let id = add_memory(h.store(), "u1", content, Sector::Semantic, 0.5, NOW, TEA).await;
    (h, id)
}

async fn pages_need_a_session(backend: Backend) {
    let (h, _) = with_memory(backend, embedder(), "Likes tea").await;
    for uri in [
        "/ui",
        "/ui/users/u1",
        "/ui/users/u1/memories/1",
        "/ui/find?q=u1",
    ] {
        let page = get(&h, None, uri).await;
        assert_eq!(
            (page.status, page.location()),
            (StatusCode::SEE_OTHER, "/ui/login"),
            "{uri}"
        );
        assert!(!page.body.contains("Likes tea"));
    }
    let forged = "memvox_ui=v1.99999999999999.00.00.00";
    assert_eq!(
        get(&h, Some(forged), "/ui/users/u1").await.location(),
        "/ui/login"
    );
    let erase = post(&h, None, "/ui/users/u1/erase", &[("confirm", "u1")]).await;
    assert_eq!(erase.status, StatusCode::UNAUTHORIZED);
    assert!(
        h.store().get_user("u1").await.unwrap().is_some(),
        "nothing erased"
    );
    // The API's tokens are not sessions, and a tool token does not sign in.
    let bearer = Request::get("/ui/users/u1")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&h, bearer).await.status, StatusCode::SEE_OTHER);
    for token in [TOKEN, "", "wrong"] {
        let page = post(&h, None, "/ui/login", &[("token", token)]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{token}");
        assert!(!page.headers.contains_key(header::SET_COOKIE));
    }
    let cookie = sign_in(&h).await;
    let page = get(&h, Some(&cookie), "/ui/users/u1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Likes tea"));
}

#[tokio::test]
async fn the_session_cookie_is_signed_http_only_and_strict() {
    let h = Harness::new(Backend::Sqlite, embedder()).await;
    let request = |host: &str| {
        Request::post("/ui/login")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={ADMIN_TOKEN}")))
            .unwrap()
    };
    let local = send(&h, request("localhost:8080")).await;
    assert_eq!(local.location(), "/ui");
    let cookie = local.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "memvox_ui=v1.",
        "; Path=/ui",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Max-Age=28800",
    ] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(
        !cookie.contains(ADMIN_TOKEN) && !cookie.contains("Secure"),
        "{cookie}"
    );
    let remote = send(&h, request("memvox.example.com")).await;
    let cookie = remote.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // Removing the admin token ends its sessions.
    let session = sign_in(&h).await;
    let mut other = h.state.clone();
    let digests = [memvox_query::hash_token("another-admin-token")];
    other.admin_tokens = std::sync::Arc::new(
        memvox_query::auth::TokenAuth::new(memvox_query::auth::Role::Admin, &digests, 0, 0)
            .unwrap(),
    );
    let rotated = Harness {
        db: h.db,
        state: other,
    };
    assert_eq!(
        get(&rotated, Some(&session), "/ui").await.location(),
        "/ui/login"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let h = Harness::new(Backend::Sqlite, embedder()).await;
    let cookie = sign_in(&h).await;
    for (cookie, uri) in [
        (None, "/ui/login"),
        (None, "/ui"),
        (None, "/ui/assets/app.js"),
        (Some(cookie.as_str()), "/ui"),
        (Some(cookie.as_str()), "/ui/users/nobody"),
    ] {
        let page = get(&h, cookie, uri).await;
        let header = |name| page.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(
            header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY),
            "{uri}"
        );
        assert_eq!(header("x-frame-options"), Some("DENY"), "{uri}");
        assert_eq!(header("x-content-type-options"), Some("nosniff"), "{uri}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    let missing = get(&h, Some(&cookie), "/ui/users/nobody").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("user nobody not found"));
    let home = get(&h, Some(&cookie), "/ui").await;
    assert!(!home.body.contains("<script>"), "no inline script");
    assert!(
        home.body
            .contains(r#"<script src="/ui/assets/app.js" defer></script>"#)
    );
}

async fn caller_data_is_escaped(backend: Backend) {
    let hostile = r#"<script>alert("x")</script> likes tea"#;
    let (h, id) = with_memory(backend, embedder(), hostile).await;
    let cookie = sign_in(&h).await;
    for uri in [
        "/ui/users/u1".to_owned(),
        format!("/ui/users/u1/memories/{id}"),
        "/ui/users/u1/search?q=tea".to_owned(),
    ] {
        let page = get(&h, Some(&cookie), &uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(!page.body.contains("<script>alert"), "{uri} is not escaped");
        assert!(
            page.body
                .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
            "{uri}"
        );
    }
    // An id typed into the finder comes back escaped too.
    let page = get(&h, Some(&cookie), "/ui/find?q=%3Cb%3Ebold").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("&lt;b&gt;bold") && !page.body.contains("<b>bold"));
}

async fn forms_without_the_sessions_csrf_token_change_nothing(backend: Backend) {
    let (h, id) = with_memory(backend, embedder(), "Likes tea").await;
    let uri = format!("/ui/users/u1/memories/{id}");
    let cookie = sign_in(&h).await;
    let other_session = sign_in(&h).await;
    let foreign = get(&h, Some(&other_session), &uri).await.csrf();
    let edit = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("content", "Hates tea".to_owned()),
            ("sector", "semantic".to_owned()),
            ("salience", "0.5".to_owned()),
            ("state", "active".to_owned()),
        ]
    };
    for csrf in ["", "0000", foreign.as_str()] {
        let fields = edit(csrf);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = post(&h, Some(&cookie), &uri, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert!(page.body.contains("nothing was changed"));
        let erase = post(
            &h,
            Some(&cookie),
            "/ui/users/u1/erase",
            &[("csrf", csrf), ("confirm", "u1")],
        )
        .await;
        assert_eq!(erase.status, StatusCode::FORBIDDEN);
    }
    let memory = h.store().get_memory("u1", id).await.unwrap().unwrap();
    assert_eq!(memory.content, "Likes tea");
    assert!(h.store().get_user("u1").await.unwrap().is_some());
    // The session's own token is accepted.
    let csrf = get(&h, Some(&cookie), &uri).await.csrf();
    let fields = edit(&csrf);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post(&h, Some(&cookie), &uri, &fields).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn a_caller_is_found_by_id_or_number(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    h.store()
        .bind_caller("+14155550199", "crm_42", NOW)
        .await
        .unwrap();
    let cookie = sign_in(&h).await;
    for q in ["crm_42", "%2B1%20(415)%20555-0199"] {
        let page = get(&h, Some(&cookie), &format!("/ui/find?q={q}")).await;
        assert_eq!(
            (page.status, page.location()),
            (StatusCode::SEE_OTHER, "/ui/users/crm_42"),
            "{q}"
        );
    }
    let page = get(&h, Some(&cookie), "/ui/users/crm_42").await;
    assert!(
        page.body.contains("+14155550199"),
        "the bound number is shown"
    );
    assert_eq!(
        get(&h, Some(&cookie), "/ui/find?q=nobody").await.status,
        StatusCode::NOT_FOUND
    );
}

memvox_testkit::both_backends!(
    pages_need_a_session,
    caller_data_is_escaped,
    forms_without_the_sessions_csrf_token_change_nothing,
    a_caller_is_found_by_id_or_number,
);
