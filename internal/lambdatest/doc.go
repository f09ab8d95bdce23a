// Package lambdatest runs a function's real bootstrap binary under the AWS
// Lambda Runtime Interface Emulator (RIE), so that tests exercise the real
// Lambda runtime API: the invoke loop, the payload and result encoding,
// error reporting and the invocation deadline.
//
// The emulator is a Go program. Its binary is taken from the COLDMOVE_RIE
// environment variable (the Makefile builds it into bin/), or else built
// once from its module at [RIEVersion] with go install into the user cache
// directory. Both the emulator and the runtime API listen on loopback
// ports of their own, so emulators can run side by side.
package lambdatest
