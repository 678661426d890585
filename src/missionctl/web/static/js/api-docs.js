/*
 * The interactive API documentation at /docs: Swagger UI over the app's OpenAPI document.
 *
 * A file of its own rather than FastAPI's inline set-up script, so the page keeps the strict
 * Content-Security-Policy of every page. The spec validator badge is off (it would load an
 * image from another host). Requests tried from the page go to this server with the session's
 * cookie; one that writes carries the session's CSRF token, as htmx requests do (app.js).
 */
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  var meta = document.querySelector('meta[name="csrf-token"]');

  function withCsrf(request) {
    var token = meta && meta.getAttribute("content");
    if (token && request.method && request.method.toUpperCase() !== "GET") {
      request.headers["X-CSRF-Token"] = token;
    }
    return request;
  }

  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: withCsrf,
  });
})();
