/** Version of polca that wrote a run (kept equal to package.json's by a test). */
export const POLCA_VERSION = '0.1.0';
