import preset from '../jest.preset.js';

export default { ...preset, displayName: 'tools', rootDir: '.', testMatch: ['<rootDir>/**/*.test.ts'] };
