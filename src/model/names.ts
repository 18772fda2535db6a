/**
 * Name rules shared by the registry (which refuses bad names on write) and the gateway (whose
 * URLs and allow-lists carry them, and whose file source reads definitions without a registry).
 */

/** The rule for MCP server names (they are part of the gateway's URLs). */
export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,254}$/;

/** MCP 2025-11-25 tool-name guidance: 1–128 ASCII letters, digits, `_`, `-` and `.`. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
