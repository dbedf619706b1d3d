//! A tiny path router: each function declares its routes; unknown paths are 404 and known paths
//! with other methods are 405 (handled by `serve`).

use lambda_http::http::Method;

/// One route: a path template (`{name}` matches one non-empty segment) and its methods.
#[derive(Debug)]
pub struct Route {
    pub template: &'static str,
    pub methods: &'static [Method],
}

impl Route {
    pub const fn new(template: &'static str, methods: &'static [Method]) -> Self {
        Self { template, methods }
    }
}

/// The route a path matched, with its captured segments.
#[derive(Debug)]
pub struct Matched {
    pub route: &'static Route,
    params: Vec<(&'static str, String)>,
}

impl Matched {
    /// A captured path segment, e.g. `param("id")` for `/v1/tasks/{id}`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn match_route(routes: &'static [Route], path: &str) -> Option<Matched> {
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

    static ROUTES: &[Route] = &[
        Route::new("/v1/tasks", &[Method::GET, Method::POST]),
        Route::new("/v1/tasks/{id}", &[Method::GET]),
    ];

    #[test]
    fn matches_literal_and_parameter_paths() {
        assert_eq!(
            match_route(ROUTES, "/v1/tasks").unwrap().route.template,
            "/v1/tasks"
        );
        let m = match_route(ROUTES, "/v1/tasks/abc").unwrap();
        assert_eq!(m.route.template, "/v1/tasks/{id}");
        assert_eq!(m.param("id"), Some("abc"));
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
