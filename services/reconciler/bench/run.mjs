#!/usr/bin/env node
// Runs the engine benchmark against the built package and prints its figures as JSON.
// Usage (after `npm run build -w @pathwatch/reconciler`): node services/reconciler/bench/run.mjs [--quick]
import console from 'node:console';
import process from 'node:process';
import { benchEngine } from '@pathwatch/reconciler';

const quick = process.argv.includes('--quick');
const result = await benchEngine({ quick });
// Run as: node --max-semi-space-size=64 services/reconciler/bench/run.mjs [--quick]
console.log(JSON.stringify(result, null, 2));
