// The northbound API: REST + server-sent events + metrics, and the dashboard's files.
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { apiRoutes, type ApiDeps } from './routes.js';
export { openApiDocument, SCHEMAS, resolveSchema } from './openapi.js';
export { validate, type Schema } from './json-schema.js';
export type { ApiEvent } from './events.js';
