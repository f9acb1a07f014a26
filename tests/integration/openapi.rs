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
