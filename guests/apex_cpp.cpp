// SPDX-License-Identifier: MIT
// apex_cpp.bin: a C++ partition program on the partition OS (tests/e2e/apex.sh): a global
// object built by its constructor before apex_main, a virtual call, a class template, the
// APEX services through their C names. Prints "apex: c++ ok" with what it saw, or FAIL.
#include "arinc653/apex.h"
#include "lib/mumu.h"

namespace {

struct Counter {
	int value;
	Counter() : value(41) { value++; } // 42 once constructed
};

Counter counter; // constructed by the runtime (lib/crt.c), before apex_main

struct Shape {
	virtual ~Shape() {}
	virtual int sides() const = 0;
};

struct Square final : Shape {
	int sides() const override { return 4; }
};

template <typename T, int N> struct Ring {
	T items[N] = {};
	int n = 0;
	void push(T v) { items[n++ % N] = v; }
	T sum() const
	{
		T s{};
		for (int i = 0; i < N; i++)
			s += items[i];
		return s;
	}
};

Square square;
Ring<int, 3> ring;

void worker()
{
	const Shape &s = square;
	RETURN_CODE_TYPE rc;
	SYSTEM_TIME_TYPE t;

	for (int i = 1; i <= 3; i++)
		ring.push(i * s.sides());
	GET_TIME(&t, &rc);
	bool good = counter.value == 42 && s.sides() == 4 && ring.sum() == 24 && rc == NO_ERROR;
	mumu_printf("apex: c++ %s constructor %d virtual %d template %d\n", good ? "ok" : "FAIL",
		    counter.value, s.sides(), ring.sum());
	STOP_SELF();
}

} // namespace

extern "C" void apex_main(void)
{
	PROCESS_ATTRIBUTE_TYPE a = {};
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE rc;

	a.PERIOD = INFINITE_TIME_VALUE;
	a.TIME_CAPACITY = INFINITE_TIME_VALUE;
	a.ENTRY_POINT = worker;
	a.STACK_SIZE = 8192;
	a.BASE_PRIORITY = 10;
	__builtin_memcpy(a.NAME, "worker", 7);
	CREATE_PROCESS(&a, &id, &rc);
	START(id, &rc);
	SET_PARTITION_MODE(NORMAL, &rc);
}
