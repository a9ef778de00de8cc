// The API documentation: Swagger UI (served by the service, nothing from a CDN) reading
// /openapi.json. With ENVIRONMENT=prod the description needs a signed-in user: the page then asks
// for a sign-in, keeps the token in memory only (gone with the tab) and sends it with the
// description's request and with every "Try it out".

const form = document.getElementById('sign-in');
const errorLine = document.getElementById('sign-in-error');

function render(spec, token) {
  // SwaggerUIBundle comes from /docs/assets/swagger-ui-bundle.js (a deferred classic script).
  window.SwaggerUIBundle({
    spec,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null, // never ask a public validator about our API
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    requestInterceptor: (request) => {
      if (token) request.headers.Authorization = `Bearer ${token}`;
      return request;
    },
  });
}

async function load(token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch('/openapi.json', { headers });
  if (response.status === 401) {
    form.hidden = false;
    if (token) showError('That sign-in is no longer valid: sign in again.');
    return;
  }
  if (!response.ok) {
    showError(`The API description could not be loaded (HTTP ${response.status}).`);
    form.hidden = false;
    return;
  }
  form.hidden = true;
  render(await response.json(), token);
}

function showError(message) {
  errorLine.textContent = message;
  errorLine.hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorLine.hidden = true;
  const body = new URLSearchParams({
    username: form.elements.username.value,
    password: form.elements.password.value,
  });
  const response = await fetch('/api/v1/auth/token', { method: 'POST', body });
  if (!response.ok) {
    showError(response.status === 429 ? 'Too many failed sign-ins: wait and try again.'
      : 'Wrong username or password.');
    return;
  }
  const { access_token: token } = await response.json();
  form.elements.password.value = '';
  await load(token);
});

// Module scripts run after deferred classic scripts, so SwaggerUIBundle is defined by now.
load(null);
