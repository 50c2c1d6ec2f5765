export { syntheticVerdict } from './synthetic.js';
export type { SyntheticOptions } from './synthetic.js';
