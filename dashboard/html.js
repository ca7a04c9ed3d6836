// htm over Preact: JSX-like templates with no build step. Interpolated values are always text
// (Preact never sets innerHTML from them), which is what keeps a site id or a label inert.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
