package catalog

// Stacks are the real stacks' configurations (Kind KindStack).
// Placeholder until helper D's configurations land in this file.
var Stacks []Config
