/** PATCH (RFC 7644 §3.5.2): see patch/index.ts. */
export * from './patch/index.js';
