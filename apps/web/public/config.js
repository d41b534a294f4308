// Runtime configuration of the Parley web app, loaded before the app itself.
//
// Deployments may replace this file to point the app at a chat server on another origin:
//
//   window.PARLEY_CONFIG = { serverUrl: 'https://chat.example.com' };
//
// `serverUrl` set here (even to '', meaning "same origin as this page") overrides the
// VITE_PARLEY_SERVER_URL the app was built with. Left unset, the build-time value applies.
window.PARLEY_CONFIG = window.PARLEY_CONFIG || {};
