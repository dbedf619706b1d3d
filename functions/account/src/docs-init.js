(async () => {
  const root = document.getElementById("swagger-ui");
  // Relative to this page, so a deployment under a path prefix finds its own document.
  const specUrl = new URL(root.dataset.specUrl, document.baseURI);
  const spec = await (await fetch(specUrl)).json();
  // "Try it out" talks to the API that served this page, wherever it is deployed; the
  // document's own servers stay selectable after it.
  const here = new URL(".", document.baseURI).href.replace(/\/$/, "");
  spec.servers = [{ url: here, description: "this API" }, ...(spec.servers || []).filter((s) => s.url !== here)];
  window.ui = SwaggerUIBundle({ spec, dom_id: "#swagger-ui", deepLinking: true });
})();
