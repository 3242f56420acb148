// The northbound API: REST + server-sent events + metrics, the dashboard's files and its login.
export { buildApiServer, startApiServer, type ApiApp, type ApiServer, type ApiServerOptions } from './server.js';
export { apiRoutes, type ApiDeps } from './routes.js';
export { COMPONENTS as SCHEMAS, IntentRequest } from './schemas.js';
export { validate } from './validation.js';
export type { ApiEvent } from './events.js';
