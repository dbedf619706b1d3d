//! The API's own documents: `GET /v1/openapi.json` is openapi.yaml as JSON, and `GET /docs` is
//! an HTML reference (Swagger UI, pinned and integrity-checked) under a tight CSP.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use devtools::repo_root;

async fn get(path: &str) -> TestResponse {
    let t = TestApp::new().await;
    call(account::handle, &t.app, TestRequest::get(path)).await
}

#[tokio::test]
async fn openapi_json_is_openapi_yaml_as_json() {
    let response = get("/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/json")
    );
    let yaml = std::fs::read_to_string(repo_root().join("openapi.yaml")).unwrap();
    let expected: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(response.json(), expected);
    assert_eq!(
        response.json()["paths"]["/v1/openapi.json"]["get"]["operationId"],
        "getOpenApi"
    );
    assert_eq!(
        response.json()["paths"]["/docs"]["get"]["operationId"],
        "getDocs"
    );
}

#[tokio::test]
async fn docs_page_is_html_referencing_the_spec_and_the_pinned_swagger_ui() {
    let response = get("/docs").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        response.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let html = response.text();
    assert!(
        html.contains(r#"data-spec-url="v1/openapi.json""#),
        "{html}"
    );
    for (url, integrity) in [
        (
            account::docs::SWAGGER_UI_JS,
            account::docs::SWAGGER_UI_JS_INTEGRITY,
        ),
        (
            account::docs::SWAGGER_UI_CSS,
            account::docs::SWAGGER_UI_CSS_INTEGRITY,
        ),
    ] {
        assert!(url.contains(&format!(
            "swagger-ui-dist@{}/",
            account::docs::SWAGGER_UI_VERSION
        )));
        assert!(
            html.contains(&format!(
                r#""{url}" integrity="{integrity}" crossorigin="anonymous""#
            )),
            "{url}"
        );
    }
}

#[tokio::test]
async fn docs_page_csp_allows_only_its_own_scripts_styles_and_this_origin() {
    let response = get("/docs").await;
    let csp = response.header("content-security-policy").expect("a CSP");
    let html = response.text();
    let inline = html
        .split("<script>")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("one inline script");
    let hash = STANDARD.encode(digest::digest(&digest::SHA256, inline.as_bytes()));
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert_eq!(
        directives,
        [
            "default-src 'none'".to_string(),
            format!(
                "script-src {} 'sha256-{hash}'",
                account::docs::SWAGGER_UI_JS
            ),
            format!("style-src {}", account::docs::SWAGGER_UI_CSS),
            "img-src 'self' data:".to_string(),
            "connect-src 'self'".to_string(),
            "base-uri 'none'".to_string(),
            "form-action 'none'".to_string(),
            "frame-ancestors 'none'".to_string(),
        ]
    );
}

#[test]
fn swagger_ui_is_the_version_the_browser_tests_install() {
    let package: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("web/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        package["devDependencies"]["swagger-ui-dist"],
        account::docs::SWAGGER_UI_VERSION
    );
}
