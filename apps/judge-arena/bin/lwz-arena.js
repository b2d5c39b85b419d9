#!/usr/bin/env node
// Runs the CLI straight from TypeScript (tsx), so a change is tried without a compile step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
