// @lwz/core/testing: helpers for tests only (the numeric matcher behind `toBeAllClose`); never imported by
// library code, so it stays out of the main entry.
export { allClose, type AllCloseOptions, type AllCloseResult } from './all-close';
export { errorOf } from './error-of';
