//! A tiny path router. Each function declares its routes as a table: a path template and, per
//! method, the endpoint that serves it (a value of the function's own endpoint enum, which its
//! handler matches exhaustively). So a route cannot be declared without its handler, and no
//! handler needs an arm for a route that does not exist. Unknown paths are 404 and known paths
//! with other methods are 405 (answered by `serve`).

use lambda_http::http::Method;

/// One route: a path template (`{name}` matches one non-empty segment) and, per method, its
/// endpoint.
#[derive(Debug)]
pub struct Route<E: 'static> {
    pub template: &'static str,
    pub endpoints: &'static [(Method, E)],
}

impl<E> Route<E> {
    pub const fn new(template: &'static str, endpoints: &'static [(Method, E)]) -> Self {
        Self {
            template,
            endpoints,
        }
    }

    /// The methods this route serves, in the order declared.
    pub fn methods(&self) -> Vec<Method> {
        self.endpoints.iter().map(|(m, _)| m.clone()).collect()
    }

    fn endpoint(&self, method: &Method) -> Option<&'static E> {
        self.endpoints
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, endpoint)| endpoint)
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
    pub fn endpoint(&self, method: &Method) -> Option<&'static E> {
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
                (Method::GET, Endpoint::List),
                (Method::POST, Endpoint::Create),
            ],
        ),
        Route::new("/v1/tasks/{id}", &[(Method::GET, Endpoint::Get)]),
    ];

    #[test]
    fn matches_literal_and_parameter_paths() {
        let m = match_route(ROUTES, "/v1/tasks").unwrap();
        assert_eq!(m.route.template, "/v1/tasks");
        assert_eq!(m.endpoint(&Method::POST), Some(&Endpoint::Create));
        let m = match_route(ROUTES, "/v1/tasks/abc").unwrap();
        assert_eq!(m.route.template, "/v1/tasks/{id}");
        assert_eq!(m.param("id"), Some("abc"));
        assert_eq!(m.endpoint(&Method::GET), Some(&Endpoint::Get));
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
