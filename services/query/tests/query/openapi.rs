//! `/openapi.json` against the server, where it is cheap to check here: every route is described
//! and nothing else, every reference and link resolves to something described, and each way a
//! request goes wrong (no credential, another role's token, an unknown user or memory, a path
//! that is not UTF-8, a body that is not JSON or not declared JSON) answers a status the
//! description lists for that operation, with the error body. `scripts/test-api-schema.sh`
//! checks the rest against `memvox serve` with generated requests.

use std::collections::BTreeSet;

use memvox_query::routes::ROUTES;
use memvox_query::routes::openapi::OPENAPI_JSON;
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support::{self, Harness, TestEmbedder, request};

fn description() -> Value {
    serde_json::from_str(OPENAPI_JSON).unwrap()
}

/// `(METHOD, path)` of every operation in the OpenAPI document.
fn documented() -> BTreeSet<(String, String)> {
    let doc = description();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

async fn openapi_matches_the_routes(backend: Backend) {
    let h = Harness::new(backend, TestEmbedder::new(&[])).await;
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(documented(), table);
    let (status, served) = h.send(request("GET", "/openapi.json", None, None)).await;
    assert_eq!(status, 200);
    assert_eq!(served, description());
    let paths: BTreeSet<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    for path in paths {
        let uri = path.replace("{user_id}", "u1").replace("{memory_id}", "1");
        for method in ["GET", "POST", "PATCH", "DELETE", "PUT"] {
            let mut req = request(method, &uri, Some(support::token_for(path)), None);
            req.headers_mut()
                .insert("x-memvox-secret", support::INIT_SECRET.parse().unwrap());
            // As every HTTP/1.1 client sends it (the MCP transport refuses a request without).
            req.headers_mut()
                .insert("host", "memvox.test".parse().unwrap());
            let (status, body) = h.send(req).await;
            let routed = table.contains(&(method.to_owned(), path.to_owned()));
            if routed {
                assert_ne!(status, 405, "{method} {path}");
                assert_ne!(body["error"]["code"], "route_not_found", "{method} {path}");
            } else {
                assert_eq!(status, 405, "{method} {path} is served but not documented");
            }
        }
    }
    let (status, body) = h.call("GET", "/v1/nothing", None).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (404, Some("route_not_found"))
    );
}

memvox_testkit::both_backends!(openapi_matches_the_routes);

/// The value a JSON pointer (`#/components/...`) names in the description.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap();
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} resolves to nothing"))
}

/// Every `$ref` under `value`.
fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.push(reference);
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// The names of the parameters of `operation` at `path` (its own and its path item's).
fn parameter_names(doc: &Value, path: &Value, operation: &Value) -> BTreeSet<String> {
    [&path["parameters"], &operation["parameters"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(reference) => resolve(doc, reference),
            None => p,
        })
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_reference_and_link_resolves() {
    let doc = description();
    let mut found = Vec::new();
    references(&doc, &mut found);
    assert!(found.len() > 50, "{} references", found.len());
    for reference in found {
        resolve(&doc, reference);
    }
    // operationId → (path item, operation), each id once.
    let mut operations = std::collections::BTreeMap::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if method != "parameters" {
                let id = operation["operationId"].as_str().unwrap();
                assert!(operations.insert(id, (item, operation)).is_none(), "{id}");
            }
        }
    }
    let mut links = 0;
    for (id, (_, operation)) in &operations {
        for (status, response) in operation["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let (item, op) = operations
                    .get(target)
                    .unwrap_or_else(|| panic!("{id} {status} {name}: no operation {target}"));
                let names = parameter_names(&doc, item, op);
                for parameter in link["parameters"].as_object().unwrap().keys() {
                    assert!(names.contains(parameter), "{id} {name}: {parameter}");
                }
                links += 1;
            }
        }
    }
    assert!(links >= 10, "{links} links");
}

/// The statuses described for `method path` (`None`: it has a `default`, so any).
fn described_statuses(method: &str, path: &str) -> Option<BTreeSet<u16>> {
    let doc = description();
    let responses = doc["paths"][path][method.to_lowercase()]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not described"))
        .clone();
    if responses.contains_key("default") {
        return None;
    }
    Some(responses.keys().map(|code| code.parse().unwrap()).collect())
}

/// Sends `req` for operation `method path`; asserts its status is described, and that a
/// refusal has the error body.
async fn assert_described(
    h: &Harness,
    method: &str,
    path: &str,
    req: axum::http::Request<axum::body::Body>,
    what: &str,
) -> u16 {
    let (status, body) = h.send(req).await;
    let status = status.as_u16();
    if let Some(described) = described_statuses(method, path) {
        assert!(
            described.contains(&status),
            "{method} {path} ({what}) answered {status}, described: {described:?}: {body}"
        );
    }
    if status >= 400 && path != "/mcp" {
        assert!(
            body["error"]["code"].is_string(),
            "{method} {path} ({what}): {body}"
        );
        assert!(
            body["error"]["message"].is_string(),
            "{method} {path} ({what}): {body}"
        );
    }
    status
}

/// A token of a role `path` refuses (403).
fn other_role(path: &str) -> &'static str {
    if path.starts_with("/v1/") {
        support::TOKEN
    } else {
        support::ADMIN_TOKEN
    }
}

#[tokio::test]
async fn refusals_answer_described_statuses_with_the_error_body() {
    let h = Harness::new(Backend::Sqlite, TestEmbedder::new(&[])).await;
    for (method, path) in ROUTES.iter().filter(|(_, path)| *path != "/openapi.json") {
        let uri = path
            .replace("{user_id}", "nobody")
            .replace("{memory_id}", "7");
        let body = (*method != "GET" && *method != "DELETE").then(|| json!({}));
        let unauthenticated = request(method, &uri, None, body.clone());
        let status = assert_described(&h, method, path, unauthenticated, "no credential").await;
        assert_eq!(status, 401, "{method} {path}");
        if *path != "/webhook/conversation-init" && *path != "/mcp" {
            let wrong = request(method, &uri, Some(other_role(path)), body.clone());
            let status = assert_described(&h, method, path, wrong, "another role").await;
            assert_eq!(status, 403, "{method} {path}");
        }
        let token = Some(support::token_for(path));
        if path.starts_with("/v1/") {
            let unknown = request(method, &uri, token, body.clone());
            assert_described(&h, method, path, unknown, "unknown user").await;
            // A path segment whose percent-encoding is not UTF-8: the error body, not plain text.
            let bad = path.replace("{user_id}", "%FF").replace("{memory_id}", "7");
            let req = request(method, &bad, token, body.clone());
            let status = assert_described(&h, method, path, req, "not UTF-8").await;
            assert_eq!(status, 400, "{method} {path}");
        }
        if body.is_some() && *path != "/mcp" {
            let mut not_json = request(method, &uri, token, None);
            not_json
                .headers_mut()
                .insert("x-memvox-secret", support::INIT_SECRET.parse().unwrap());
            not_json
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            *not_json.body_mut() = axum::body::Body::from("{not json");
            assert_described(&h, method, path, not_json, "not JSON").await;
            let mut undeclared = request(method, &uri, token, None);
            undeclared
                .headers_mut()
                .insert("x-memvox-secret", support::INIT_SECRET.parse().unwrap());
            *undeclared.body_mut() = axum::body::Body::from("{}");
            assert_described(&h, method, path, undeclared, "no content type").await;
        }
    }
}

/// JSON Schema counts `3.0` as an integer: where the description says integer, the server
/// reads it as one (an LLM's tool arguments may carry one).
#[tokio::test]
async fn integral_floats_are_integers_as_described() {
    let h = Harness::new(Backend::Sqlite, TestEmbedder::new(&[])).await;
    let (status, answer) = h
        .call(
            "POST",
            "/tools/memory-query",
            Some(json!({"query": "tea", "limit": 3.0})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let memory = json!({"content": "Likes green tea", "sector": "semantic"});
    let (status, _) = h.call("POST", "/v1/users/u1/memories", Some(memory)).await;
    assert_eq!(status, 201);
    let search = json!({"query": "tea", "limit": 2.0});
    let (status, answer) = h
        .call("POST", "/v1/users/u1/memories/search", Some(search))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["memories"][0]["content"], "Likes green tea");
    let (status, answer) = h
        .call(
            "POST",
            "/tools/memory-query",
            Some(json!({"query": "tea", "limit": 2.5})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
}
