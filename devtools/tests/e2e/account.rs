//! The account's password change and sessions end to end, over HTTP against the real local
//! stack (scripts/test.sh sets TASKLINE_BASE_URL): two logins are listed with their user
//! agents, a password change ends the other one and keeps this one under a new cookie, and
//! sessions are ended one by one or all but the current one.
//!
//! Every response goes through `send_checked`, which checks it against openapi.yaml.

use crate::{me, refresh, set_cookie, url};
use devtools::openapi::CheckedSend;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// Logs in with a `User-Agent`; returns the access token and the refresh cookie's value.
async fn login(client: &Client, email: &str, password: &str, agent: &str) -> (String, String) {
    let response = client
        .post(url("/v1/auth/login"))
        .header("user-agent", agent)
        .json(&json!({"email": email, "password": password}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (cookie, _) = set_cookie(&response);
    let body: Value = response.json().await.unwrap();
    (body["access_token"].as_str().unwrap().to_string(), cookie)
}

async fn status_of_login(client: &Client, email: &str, password: &str) -> StatusCode {
    client
        .post(url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send_checked()
        .await
        .unwrap()
        .status()
}

async fn sessions(client: &Client, token: &str) -> Vec<Value> {
    let response = client
        .get(url("/v1/sessions"))
        .bearer_auth(token)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn password_change_and_sessions_over_http() {
    let client = Client::new();
    let email = format!("e2e-account-{}@example.com", uuid::Uuid::now_v7().simple());
    let registered = client
        .post(url("/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Account E2E"}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);

    let (laptop, laptop_cookie) = login(&client, &email, PASSWORD, "Laptop/1.0").await;
    let (phone, phone_cookie) = login(&client, &email, PASSWORD, "Phone/2.0").await;

    let listed = sessions(&client, &laptop).await;
    let agents: Vec<_> = listed.iter().map(|s| s["user_agent"].clone()).collect();
    assert_eq!(agents, [json!("Laptop/1.0"), json!("Phone/2.0")]);
    let current: Vec<_> = listed.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [true, false]);

    // The name, through PATCH.
    let renamed = client
        .patch(url("/v1/me"))
        .bearer_auth(&laptop)
        .json(&json!({"name": "Renamed"}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);

    // The password change: the phone's session ends, the laptop's continues.
    let changed = client
        .post(url("/v1/me/password"))
        .bearer_auth(&laptop)
        .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let rotated = set_cookie(&changed).0;
    assert_eq!(me(&client, &phone).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&client, &phone_cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&client, &laptop).await.status(), StatusCode::OK);
    assert_eq!(
        refresh(&client, &laptop_cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let next = refresh(&client, &rotated).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(
        status_of_login(&client, &email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sessions(&client, &laptop).await.len(), 1);

    // Ending one session by id, then all but the current one.
    let (tablet, _) = login(&client, &email, NEW_PASSWORD, "Tablet/3.0").await;
    let (watch, _) = login(&client, &email, NEW_PASSWORD, "Watch/4.0").await;
    let tablet_id = sessions(&client, &tablet)
        .await
        .into_iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = client
        .delete(url(&format!("/v1/sessions/{tablet_id}")))
        .bearer_auth(&laptop)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me(&client, &tablet).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&client, &watch).await.status(), StatusCode::OK);
    let others = client
        .delete(url("/v1/sessions"))
        .bearer_auth(&laptop)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(others.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&client, &watch).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&client, &laptop).await.status(), StatusCode::OK);
    let again = client
        .delete(url(&format!("/v1/sessions/{tablet_id}")))
        .bearer_auth(&laptop)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}
