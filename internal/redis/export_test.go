package redis

// Exported for the tests of package redis_test, which may start servers through testenv (package
// redis's own tests cannot import it: testenv imports redis).
var OverflowDropsEveryCachedKey = overflowDropsEveryCachedKey
