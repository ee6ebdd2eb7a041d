// Preferences are a JSON API (PUT /prefs/:name); an HTML form cannot send PUT.
document.getElementById('theme').addEventListener('submit', async event => {
  event.preventDefault();
  await fetch('/prefs/theme', { method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: event.currentTarget.dataset.next }) });
  location.reload();
});
