// Flow tables declared as data, the pure rule compiler, the update planner and the validator.

export * from './binding-plan.js';
export * from './binding-rules.js';
export * from './compiler.js';
export * from './cookie.js';
export * from './learner-rules.js';
export * from './plan.js';
export * from './rule.js';
export * from './tables.js';
export * from './validate.js';
