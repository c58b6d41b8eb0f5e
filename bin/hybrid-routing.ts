#!/usr/bin/env node
import { EnvironmentConfigError } from '../lib/config/environment-config';
import { buildApp } from '../lib/app';

try {
  buildApp();
} catch (error) {
  if (error instanceof EnvironmentConfigError) {
    console.error(`hybrid-routing: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
