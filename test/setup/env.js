// Test-wide environment: the AWS SDK's Node-version notice (its releases after January 2027 need
// Node 22) printed by every test file on Node 20 says nothing about the code under test; the
// CLI leaves it out the same way (bin/trailstory.js).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
