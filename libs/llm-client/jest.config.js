import preset from '../../jest.preset.js';

export default { ...preset, displayName: 'llm-client', rootDir: '.' };
