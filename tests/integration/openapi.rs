//! The OpenAPI document is generated from the routes; these tests hold it
//! to the running server and to the README, so none of the three can drift.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    let res = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.unwrap()
}

/// Every (method, path, operation) in the document.
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_uppercase().parse().unwrap(), path.clone(), op.clone()));
        }
    }
    ops
}

/// The required fields of an operation's JSON request body, if it has one.
fn required_fields(doc: &Value, op: &Value) -> Option<Vec<String>> {
    let reference = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    let name = reference.rsplit('/').next().unwrap();
    let schema = &doc["components"]["schemas"][name];
    // A body whose fields are all optional (one of several) lists none.
    let required = schema["required"].as_array().map(Vec::as_slice).unwrap_or_default();
    Some(required.iter().map(|f| f.as_str().unwrap().to_owned()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_matches_the_readme_endpoint_for_endpoint() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Gatehouse");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let documented: BTreeSet<String> = operations(&doc).iter().map(|(m, p, _)| format!("{m} {p}")).collect();

    let readme = std::fs::read_to_string("README.md").unwrap();
    let endpoint = regex_lite_endpoints(&readme);
    let mut in_readme: BTreeSet<String> = endpoint.into_iter().collect();
    assert!(in_readme.remove("GET /api/openapi.json"), "the README lists the document itself");
    assert_eq!(documented, in_readme, "the README's API tables and the document list the same endpoints");
}

/// `METHOD /path` of every endpoint named in a README table row.
fn regex_lite_endpoints(readme: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        for piece in line.split('`').skip(1).step_by(2) {
            let Some((method, rest)) = piece.split_once(' ') else { continue };
            if ["GET", "POST", "DELETE"].contains(&method) && rest.starts_with('/') {
                let path = rest.split(['?', ' ']).next().unwrap();
                found.push(format!("{method} {path}"));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_and_answers_a_documented_status() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let _ = app.admin("root").await;
    let _ = app.signed_in("bob").await;
    let bob = app.user_id("bob").await;
    for (method, path, op) in operations(&doc) {
        // A fresh sign-in each time: some operations end the session.
        let (token, _) = app.login_pair("root").await;
        let url = path.replace("{id}", &bob);
        let mut req = app.client.request(method.clone(), app.url(&url)).bearer_auth(&token);
        if let Some(fields) = required_fields(&doc, &op) {
            let body: Map<String, Value> = fields.into_iter().map(|f| (f, json!("x"))).collect();
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16().to_string();
        let body = res.text().await.unwrap();
        assert!(!body.contains("No such API endpoint"), "{method} {path} is not routed");
        let listed = op["responses"].as_object().unwrap();
        assert!(
            listed.contains_key(&status),
            "{method} {path} answered {status}, documented {:?}: {body}",
            listed.keys()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_documented_request_body_names_exactly_the_fields_the_route_reads() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let (token, _) = app.admin("root").await;
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let Some(fields) = required_fields(&doc, &op) else { continue };
        let url = path.replace("{id}", "x");
        for missing in &fields {
            let body: Map<String, Value> =
                fields.iter().filter(|f| *f != missing).map(|f| (f.clone(), json!("x"))).collect();
            let res =
                app.client.request(method.clone(), app.url(&url)).bearer_auth(&token).json(&body).send().await.unwrap();
            assert_eq!(res.status(), 400, "{method} {path} without {missing}");
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                json!({ "msg": format!("Missing {missing}") }),
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_that_takes_a_token_documents_its_refusal() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let secured: Vec<_> = operations(&doc).into_iter().filter(|(_, _, op)| op.get("security").is_some()).collect();
    assert!(secured.len() >= 20, "{}", secured.len());
    for (method, path, op) in secured {
        assert!(op["responses"].get("401").is_some(), "{method} {path} documents no 401");
        // And it is what a call without a token gets.
        let url = path.replace("{id}", "x");
        let res = app.client.request(method.clone(), app.url(&url)).send().await.unwrap();
        assert_eq!(res.status(), 401, "{method} {path} without a token");
    }
}

/// The parameter `name` of `GET path` in the document.
fn parameter<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
    &params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_the_document_states_are_the_ones_the_server_enforces() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let (token, _) = app.admin("root").await;
    let get = |query: &'static str, path: &'static str| {
        let req = app.client.get(app.url(&format!("{path}?{query}"))).bearer_auth(&token);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    for path in ["/api/admin/users", "/api/admin/audit"] {
        let page = parameter(&doc, path, "page");
        assert_eq!((page["minimum"].clone(), page["maximum"].clone()), (json!(1), json!(1_000_000)), "{path}");
        for bad in ["page=0", "page=1000001", "page=4294967295"] {
            let (status, body) = get(bad, path).await;
            assert_eq!(status, 400, "{path}?{bad}: {body}");
            assert_eq!(body, json!({ "msg": "'page' counts from 1 to 1000000" }), "{path}?{bad}");
        }
        assert_eq!(get("page=1000000", path).await.0, 200, "{path}: the last page there can be");
    }

    // The audit filters are the enumerations the document lists.
    assert_eq!(parameter(&doc, "/api/admin/audit", "kind")["$ref"], "#/components/schemas/AuditKind");
    let kinds = doc["components"]["schemas"]["AuditKind"]["enum"].as_array().unwrap();
    assert!(kinds.contains(&json!("sign_in")) && kinds.len() >= 19, "{kinds:?}");
    for k in kinds {
        let q = format!("kind={}", k.as_str().unwrap());
        let res = app.client.get(app.url(&format!("/api/admin/audit?{q}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{q}");
    }
    for bad in ["kind=", "kind=signin", "kind=%20sign_in"] {
        let (status, body) = get(bad, "/api/admin/audit").await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["msg"].as_str().unwrap().starts_with("Unknown event kind"), "{bad}: {body}");
    }
    let outcome = parameter(&doc, "/api/admin/audit", "outcome");
    assert_eq!(outcome["enum"], json!(["success", "failure"]), "{outcome}");
    for bad in ["outcome=", "outcome=Success", "outcome=ok"] {
        assert_eq!(get(bad, "/api/admin/audit").await.0, 400, "{bad}");
    }
    assert_eq!(doc["components"]["schemas"]["Role"]["enum"], json!(["user", "admin"]));
    assert_eq!(doc["components"]["schemas"]["PasswordReset"]["properties"]["token"]["pattern"], "^grs_[A-Za-z0-9_-]+$");
    let password = &doc["components"]["schemas"]["Credentials"]["properties"]["password"];
    let max = gatehouse::domain::Password::MAX_BYTES;
    assert_eq!((password["minLength"].clone(), password["maxLength"].clone()), (json!(1), json!(max)));
    // The longest password the document allows in one-byte characters is
    // taken; one more is refused. Longer characters only refuse sooner.
    let longest: String = "correct horse battery ".chars().cycle().take(max).collect();
    assert_eq!(app.register("longest", &longest).await.status(), 201);
    let res = app.register("longer", &format!("{longest}!")).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("1024 bytes"));
}
