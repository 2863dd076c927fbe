// --task-module for the CLI tests in child processes: registers the toy task as "toy_cli".
import { registerTask } from '../src/tasks/registry.js';
import { toyTask } from './train-toy.js';

registerTask({ name: 'toy_cli', description: 'the toy of the training tests', create: async () => toyTask('toy_cli') });
