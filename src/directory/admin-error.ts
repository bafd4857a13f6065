/** A refusal of an admin operation (CLI, admin API), with a message for a person. */
export class AdminError extends Error {}
