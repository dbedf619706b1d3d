//! A tiny path router. Each function declares its routes as a table: a path template and, per
//! method, how the caller authenticates and the endpoint that serves it (a value of the
//! function's own endpoint enum, which its handler matches exhaustively). So a route cannot be
//! declared without its handler or its authentication, and no handler needs an arm for a route
//! that does not exist. Unknown paths are 404 and known paths with other methods are 405
//! (answered by `serve`).

use lambda_http::http::Method;

/// How a route authenticates its caller, before its handler runs (`App::serve` hands the
/// handler the authenticated caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Open to anyone.
    None,
    /// A Bearer access token (ours or the external provider's) of an active account and a
    /// live session.
    Bearer,
    /// A Bearer token of the account, also while its deletion goes on (`DELETE /v1/me`).
    BearerDuringDeletion,
    /// The refresh cookie, from an allowed `Origin`.
    RefreshCookie,
}

/// One route: a path template (`{name}` matches one non-empty segment) and, per method, its
/// endpoint.
#[derive(Debug)]
pub struct Route<E: 'static> {
    pub template: &'static str,
    pub endpoints: &'static [(Method, Auth, E)],
}

impl<E> Route<E> {
    pub const fn new(template: &'static str, endpoints: &'static [(Method, Auth, E)]) -> Self {
        Self {
            template,
            endpoints,
        }
    }

    /// The methods this route serves, in the order declared.
    pub fn methods(&self) -> Vec<Method> {
        self.endpoints.iter().map(|(m, _, _)| m.clone()).collect()
    }

    fn endpoint(&self, method: &Method) -> Option<(Auth, &'static E)> {
        self.endpoints
            .iter()
            .find(|(m, _, _)| m == method)
            .map(|(_, auth, endpoint)| (*auth, endpoint))
    }
}

/// Every `(path template, method)` a route table serves (the contract tests compare them with
/// openapi.yaml and the deployment).
pub fn served<E>(routes: &[Route<E>]) -> Vec<(&'static str, Method)> {
    routes
        .iter()
        .flat_map(|route| route.methods().into_iter().map(|m| (route.template, m)))
        .collect()
}

/// A path that matched a route, with its captured segments.
#[derive(Debug)]
pub struct Matched<E: 'static> {
    pub route: &'static Route<E>,
    params: Vec<(&'static str, String)>,
}

impl<E> Matched<E> {
    /// A captured path segment, e.g. `param("id")` for `/v1/tasks/{id}`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The endpoint serving `method` on this route (`None`: 405).
    pub fn endpoint(&self, method: &Method) -> Option<(Auth, &'static E)> {
        self.route.endpoint(method)
    }
}

pub fn match_route<E>(routes: &'static [Route<E>], path: &str) -> Option<Matched<E>> {
    routes.iter().find_map(|route| {
        let mut params = Vec::new();
        let mut actual = path.split('/');
        for expected in route.template.split('/') {
            let segment = actual.next()?;
            match expected.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
                Some(name) if !segment.is_empty() => params.push((name, segment.to_string())),
                Some(_) => return None,
                None if expected == segment => {}
                None => return None,
            }
        }
        actual.next().is_none().then_some(Matched { route, params })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Endpoint {
        List,
        Create,
        Get,
    }

    static ROUTES: &[Route<Endpoint>] = &[
        Route::new(
            "/v1/tasks",
            &[
                (Method::GET, Auth::Bearer, Endpoint::List),
                (Method::POST, Auth::Bearer, Endpoint::Create),
            ],
        ),
        Route::new(
            "/v1/tasks/{id}",
            &[(Method::GET, Auth::Bearer, Endpoint::Get)],
        ),
    ];

    #[test]
    fn matches_literal_and_parameter_paths() {
        let m = match_route(ROUTES, "/v1/tasks").unwrap();
        assert_eq!(m.route.template, "/v1/tasks");
        assert_eq!(
            m.endpoint(&Method::POST),
            Some((Auth::Bearer, &Endpoint::Create))
        );
        let m = match_route(ROUTES, "/v1/tasks/abc").unwrap();
        assert_eq!(m.route.template, "/v1/tasks/{id}");
        assert_eq!(m.param("id"), Some("abc"));
        assert_eq!(
            m.endpoint(&Method::GET),
            Some((Auth::Bearer, &Endpoint::Get))
        );
        assert_eq!(m.endpoint(&Method::DELETE), None);
    }

    #[test]
    fn a_table_lists_what_it_serves() {
        assert_eq!(
            served(ROUTES),
            [
                ("/v1/tasks", Method::GET),
                ("/v1/tasks", Method::POST),
                ("/v1/tasks/{id}", Method::GET)
            ]
        );
    }

    #[test]
    fn rejects_other_paths() {
        for path in [
            "/v1/task",
            "/v1/tasks/",
            "/v1/tasks/a/b",
            "/",
            "",
            "/v1/tasks//",
        ] {
            assert!(match_route(ROUTES, path).is_none(), "{path} matched");
        }
    }
}
