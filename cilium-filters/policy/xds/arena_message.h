#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/common.h>

namespace Cilium {
namespace Policy {

// A new message of type T on `arena`, its sub-messages, repeated fields and strings with it:
// freeing the arena frees them all at once, without running a destructor per message.
//
// The call differs with protobuf's version. Up to 26, Arena::Create<T> treats a message as
// any other object: it is built off the arena (every field it parses lands on the heap) and
// its destructor is registered to run when the arena goes; CreateMessage<T> is the arena
// call. From 27, CreateMessage is deprecated (then removed) and Create<T> is the arena call.
template <class T>
T* newArenaMessage(google::protobuf::Arena* arena) {
#if GOOGLE_PROTOBUF_VERSION < 5027000
  return google::protobuf::Arena::CreateMessage<T>(arena);
#else
  return google::protobuf::Arena::Create<T>(arena);
#endif
}

}  // namespace Policy
}  // namespace Cilium
