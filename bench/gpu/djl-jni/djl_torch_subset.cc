// A JNI library for DJL 0.36's PyTorch engine (class ai.djl.pytorch.jni.PyTorchLibrary) that implements only the
// natives our two networks call (the ResNet classifier and the lung U-Net, inference and seeded initialisation), so
// that `cxr bench-model` can run on a host whose libtorch is not the one DJL's own JNI was built for. DJL's JNI must
// match its libtorch exactly (it inlines tensor layouts); the GPU hosts lent to this project have only PyTorch 2.11,
// and DJL 0.36's CUDA build needs 2.7.1. Built against whatever libtorch is at hand (build.sh beside this file),
// this library has no such mismatch. The list of natives came from `-verbose:jni` on CPU runs of bench-model and of
// the model tests (README.md beside this file); a native DJL calls that is missing here fails with UnsatisfiedLinkError.
//
// Conventions of DJL's Java side that this file follows: a tensor handle is a heap-allocated at::Tensor*; data types
// are ordinals of ai.djl.ndarray.types.DataType; a device is {type (0 CPU, 1 CUDA), index}; layout 0 is dense;
// errors are thrown as ai.djl.engine.EngineException.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <jni.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

at::ScalarType toScalarType(jint djlType) {
  switch (djlType) {
    case 0: return at::kFloat;
    case 1: return at::kDouble;
    case 2: return at::kHalf;
    case 3: return at::kByte;
    case 4: return at::kInt;
    case 5: return at::kChar;
    case 6: return at::kLong;
    case 7: return at::kBool;
    case 8: return at::kComplexFloat;
    case 11: return at::kBFloat16;
    case 15: return at::kShort;
    default: throw std::invalid_argument("unsupported DJL data type " + std::to_string(djlType));
  }
}

jint toDjlType(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return 0;
    case at::kDouble: return 1;
    case at::kHalf: return 2;
    case at::kByte: return 3;
    case at::kInt: return 4;
    case at::kChar: return 5;
    case at::kLong: return 6;
    case at::kBool: return 7;
    case at::kComplexFloat: return 8;
    case at::kBFloat16: return 11;
    case at::kShort: return 15;
    default: return 9;  // UNKNOWN
  }
}

at::Tensor& tensor(jlong handle) {
  if (handle == 0) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(handle);
}

// An absent optional argument (bias) arrives as handle 0.
at::Tensor optionalTensor(jlong handle) {
  return handle == 0 ? at::Tensor() : *reinterpret_cast<at::Tensor*>(handle);
}

jlong handleOf(at::Tensor result) { return reinterpret_cast<jlong>(new at::Tensor(std::move(result))); }

std::vector<int64_t> longs(JNIEnv* env, jlongArray array) {
  jsize length = env->GetArrayLength(array);
  std::vector<int64_t> values(length);
  env->GetLongArrayRegion(array, 0, length, reinterpret_cast<jlong*>(values.data()));
  return values;
}

at::Device device(JNIEnv* env, jintArray array) {
  jint values[2];
  env->GetIntArrayRegion(array, 0, 2, values);
  if (values[0] == 0) return at::Device(at::kCPU);
  if (values[0] == 1) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(values[1]));
  throw std::invalid_argument("unsupported DJL device type " + std::to_string(values[0]));
}

at::TensorOptions options(JNIEnv* env, jint dType, jint layout, jintArray deviceArray, jboolean requiresGrad) {
  if (layout != 0) throw std::invalid_argument("only dense tensors are supported, layout " + std::to_string(layout));
  return at::TensorOptions().dtype(toScalarType(dType)).device(device(env, deviceArray)).requires_grad(requiresGrad);
}

void throwEngineException(JNIEnv* env, const char* message) {
  jclass type = env->FindClass("ai/djl/engine/EngineException");
  if (type != nullptr) env->ThrowNew(type, message);
}

// Runs body; a C++ exception becomes a Java EngineException and the native returns fallback.
template <typename Result, typename Body>
Result guarded(JNIEnv* env, Result fallback, Body body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throwEngineException(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwEngineException(env, e.what());
  }
  return fallback;
}

template <typename Body>
void guardedVoid(JNIEnv* env, Body body) {
  guarded<int>(env, 0, [&] {
    body();
    return 0;
  });
}

}  // namespace

#define DJL_NATIVE(ret, name) extern "C" JNIEXPORT ret JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_##name

// ---- engine set-up ----

DJL_NATIVE(void, torchSetNumThreads)(JNIEnv* env, jobject, jint threads) {
  guardedVoid(env, [&] { at::set_num_threads(threads); });
}

DJL_NATIVE(void, torchSetNumInteropThreads)(JNIEnv* env, jobject, jint threads) {
  guardedVoid(env, [&] { at::set_num_interop_threads(threads); });
}

DJL_NATIVE(jint, torchGetNumThreads)(JNIEnv* env, jobject) {
  return guarded<jint>(env, 0, [&] { return static_cast<jint>(at::get_num_threads()); });
}

DJL_NATIVE(jint, torchGetNumInteropThreads)(JNIEnv* env, jobject) {
  return guarded<jint>(env, 0, [&] { return static_cast<jint>(at::get_num_interop_threads()); });
}

DJL_NATIVE(void, torchSetGradMode)(JNIEnv* env, jobject, jboolean enable) {
  guardedVoid(env, [&] { at::GradMode::set_enabled(enable); });
}

DJL_NATIVE(void, torchManualSeed)(JNIEnv* env, jobject, jlong seed) {
  guardedVoid(env, [&] { torch::manual_seed(static_cast<uint64_t>(seed)); });
}

DJL_NATIVE(void, torchSetBenchmarkCuDNN)(JNIEnv* env, jobject, jboolean enable) {
  guardedVoid(env, [&] { at::globalContext().setBenchmarkCuDNN(enable); });
}

// The engine's capability names (PtEngine.hasCapability).
DJL_NATIVE(void, torchShowConfig)(JNIEnv* env, jobject, jobject set) {
  guardedVoid(env, [&] {
    std::vector<std::string> features;
    if (torch::cuda::is_available()) features.push_back("CUDA");
    if (torch::cuda::cudnn_is_available()) features.push_back("CUDNN");
    if (at::hasMKL()) features.push_back("MKL");
    if (at::hasMKLDNN()) features.push_back("MKLDNN");
#if AT_PARALLEL_OPENMP
    features.push_back("OPENMP");
#endif
    jclass setType = env->GetObjectClass(set);
    jmethodID add = env->GetMethodID(setType, "add", "(Ljava/lang/Object;)Z");
    for (const std::string& feature : features) {
      jstring name = env->NewStringUTF(feature.c_str());
      env->CallBooleanMethod(set, add, name);
      env->DeleteLocalRef(name);
    }
  });
}

// ---- tensor creation, properties, data and lifetime ----

// As DJL's own JNI: a CPU tensor shares the buffer's memory (DJL's Java side keeps the buffer alive with the array),
// a GPU tensor is a copy of it.
DJL_NATIVE(jlong, torchFromBlob)(JNIEnv* env, jobject, jobject data, jlongArray shape, jint dType, jint layout,
                                 jintArray deviceArray, jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    void* address = env->GetDirectBufferAddress(data);
    if (address == nullptr) throw std::invalid_argument("torchFromBlob needs a direct buffer");
    at::TensorOptions target = options(env, dType, layout, deviceArray, false);
    at::Tensor host = at::from_blob(address, longs(env, shape), target.device(at::kCPU));
    at::Tensor result = target.device().is_cpu() ? host : host.to(target.device());
    if (requiresGrad) result.requires_grad_(true);
    return handleOf(result);
  });
}

DJL_NATIVE(jlong, torchZeros)(JNIEnv* env, jobject, jlongArray shape, jint dType, jint layout, jintArray deviceArray,
                              jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(at::zeros(longs(env, shape), options(env, dType, layout, deviceArray, requiresGrad)));
  });
}

DJL_NATIVE(jlong, torchOnes)(JNIEnv* env, jobject, jlongArray shape, jint dType, jint layout, jintArray deviceArray,
                             jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(at::ones(longs(env, shape), options(env, dType, layout, deviceArray, requiresGrad)));
  });
}

DJL_NATIVE(jlong, torchEmpty)(JNIEnv* env, jobject, jlongArray shape, jint dType, jint layout, jintArray deviceArray,
                              jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(at::empty(longs(env, shape), options(env, dType, layout, deviceArray, requiresGrad)));
  });
}

DJL_NATIVE(jlong, tensorUniform)(JNIEnv* env, jobject, jdouble from, jdouble to, jlongArray shape, jint dType,
                                 jint layout, jintArray deviceArray, jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor result = at::empty(longs(env, shape), options(env, dType, layout, deviceArray, false)).uniform_(from, to);
    if (requiresGrad) result.requires_grad_(true);
    return handleOf(result);
  });
}

DJL_NATIVE(jlong, torchNormal)(JNIEnv* env, jobject, jdouble mean, jdouble std, jlongArray shape, jint dType,
                               jint layout, jintArray deviceArray, jboolean requiresGrad) {
  return guarded<jlong>(env, 0, [&] {
    at::TensorOptions opts = options(env, dType, layout, deviceArray, false);
    at::Tensor result = at::empty(longs(env, shape), opts).normal_(mean, std);
    if (requiresGrad) result.requires_grad_(true);
    return handleOf(result);
  });
}

DJL_NATIVE(void, torchDeleteTensor)(JNIEnv* env, jobject, jlong handle) {
  guardedVoid(env, [&] { delete reinterpret_cast<at::Tensor*>(handle); });
}

DJL_NATIVE(jlongArray, torchSizes)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlongArray>(env, nullptr, [&] {
    at::IntArrayRef sizes = tensor(handle).sizes();
    jlongArray result = env->NewLongArray(static_cast<jsize>(sizes.size()));
    env->SetLongArrayRegion(result, 0, static_cast<jsize>(sizes.size()), reinterpret_cast<const jlong*>(sizes.data()));
    return result;
  });
}

DJL_NATIVE(jint, torchDType)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jint>(env, 9, [&] { return toDjlType(tensor(handle).scalar_type()); });
}

DJL_NATIVE(jintArray, torchDevice)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jintArray>(env, nullptr, [&] {
    at::Device where = tensor(handle).device();
    jint values[2] = {where.is_cuda() ? 1 : 0, static_cast<jint>(where.index())};
    if (!where.is_cuda() && !where.is_cpu()) throw std::invalid_argument("tensor on an unsupported device");
    jintArray result = env->NewIntArray(2);
    env->SetIntArrayRegion(result, 0, 2, values);
    return result;
  });
}

DJL_NATIVE(jint, torchLayout)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jint>(env, 0, [&] {
    if (tensor(handle).layout() != at::kStrided) throw std::invalid_argument("only dense tensors are supported");
    return 0;
  });
}

DJL_NATIVE(jboolean, torchIsContiguous)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jboolean>(env, false, [&] { return static_cast<jboolean>(tensor(handle).is_contiguous()); });
}

DJL_NATIVE(jlong, torchToContiguous)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).contiguous()); });
}

DJL_NATIVE(jlong, torchTo)(JNIEnv* env, jobject, jlong handle, jint dType, jintArray deviceArray) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(tensor(handle).to(device(env, deviceArray), toScalarType(dType)));
  });
}

// The Java side asks only for CPU, contiguous tensors (JniUtils.getByteBuffer moves and compacts first).
DJL_NATIVE(jobject, torchDirectByteBuffer)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jobject>(env, nullptr, [&] {
    const at::Tensor& t = tensor(handle);
    if (!t.is_cpu() || !t.is_contiguous()) throw std::invalid_argument("direct buffer of a non-CPU or strided tensor");
    return env->NewDirectByteBuffer(t.data_ptr(), static_cast<jlong>(t.nbytes()));
  });
}

DJL_NATIVE(jbyteArray, torchDataPtr)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jbyteArray>(env, nullptr, [&] {
    at::Tensor t = tensor(handle).to(at::kCPU).contiguous();
    jbyteArray result = env->NewByteArray(static_cast<jsize>(t.nbytes()));
    env->SetByteArrayRegion(result, 0, static_cast<jsize>(t.nbytes()), static_cast<const jbyte*>(t.data_ptr()));
    return result;
  });
}

// Overwrites the tensor's elements with the direct buffer's, which holds as many of the same type.
DJL_NATIVE(void, torchSet)(JNIEnv* env, jobject, jlong handle, jobject data) {
  guardedVoid(env, [&] {
    void* address = env->GetDirectBufferAddress(data);
    if (address == nullptr) throw std::invalid_argument("torchSet needs a direct buffer");
    at::Tensor& target = tensor(handle);
    at::Tensor source = at::from_blob(address, target.sizes(), at::TensorOptions().dtype(target.scalar_type()));
    at::NoGradGuard noGrad;
    target.copy_(source);
  });
}

DJL_NATIVE(jboolean, contentEqual)(JNIEnv* env, jobject, jlong first, jlong second) {
  return guarded<jboolean>(env, false, [&] { return static_cast<jboolean>(at::equal(tensor(first), tensor(second))); });
}

DJL_NATIVE(void, torchAttachGrad)(JNIEnv* env, jobject, jlong handle, jboolean requiresGrad) {
  guardedVoid(env, [&] { tensor(handle).requires_grad_(requiresGrad); });
}

DJL_NATIVE(jlong, tensorClone)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).clone()); });
}

// ---- shape ----

DJL_NATIVE(jlong, torchReshape)(JNIEnv* env, jobject, jlong handle, jlongArray shape) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).reshape(longs(env, shape))); });
}

DJL_NATIVE(jlong, torchTranspose)(JNIEnv* env, jobject, jlong handle, jlong axis1, jlong axis2) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).transpose(axis1, axis2)); });
}

DJL_NATIVE(jlong, torchCat)(JNIEnv* env, jobject, jlongArray handles, jlong dim) {
  return guarded<jlong>(env, 0, [&] {
    std::vector<at::Tensor> parts;
    for (int64_t h : longs(env, handles)) parts.push_back(tensor(h));
    return handleOf(at::cat(parts, dim));
  });
}

DJL_NATIVE(jlong, torchRepeatInterleave)(JNIEnv* env, jobject, jlong handle, jlong repeat, jlong axis) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).repeat_interleave(repeat, axis)); });
}

// ---- arithmetic ----

DJL_NATIVE(jlong, torchAdd)(JNIEnv* env, jobject, jlong self, jlong other) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(self).add(tensor(other))); });
}

DJL_NATIVE(jlong, torchSub)(JNIEnv* env, jobject, jlong self, jlong other) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(self).sub(tensor(other))); });
}

DJL_NATIVE(jlong, torchMul)(JNIEnv* env, jobject, jlong self, jlong other) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(self).mul(tensor(other))); });
}

DJL_NATIVE(jlong, torchTrueDivide)(JNIEnv* env, jobject, jlong self, jlong other) {
  return guarded<jlong>(env, 0, [&] { return handleOf(at::true_divide(tensor(self), tensor(other))); });
}

DJL_NATIVE(jlong, torchSqrt)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).sqrt()); });
}

DJL_NATIVE(jlong, torchSigmoid)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).sigmoid()); });
}

// torchMin is overloaded on the Java side, so its two natives carry JNI's long names.
DJL_NATIVE(jlong, torchMin__J)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).min()); });
}

DJL_NATIVE(jlong, torchMin__JJZ)(JNIEnv* env, jobject, jlong handle, jlong dim, jboolean keepDim) {
  return guarded<jlong>(env, 0, [&] { return handleOf(std::get<0>(tensor(handle).min(dim, keepDim))); });
}

DJL_NATIVE(jlong, torchSoftmax)(JNIEnv* env, jobject, jlong handle, jlong dim, jint dType) {
  return guarded<jlong>(env, 0, [&] { return handleOf(tensor(handle).softmax(dim, toScalarType(dType))); });
}

// ---- network layers ----

DJL_NATIVE(jlong, torchNNConvNd)(JNIEnv* env, jobject, jlong input, jlong weight, jlong bias, jlongArray stride,
                                 jlongArray padding, jlongArray dilation, jint groups) {
  return guarded<jlong>(env, 0, [&] {
    std::vector<int64_t> strides = longs(env, stride);
    std::vector<int64_t> outputPadding(strides.size(), 0);
    return handleOf(at::convolution(tensor(input), tensor(weight), optionalTensor(bias), strides,
                                    longs(env, padding), longs(env, dilation), false, outputPadding, groups));
  });
}

DJL_NATIVE(jlong, torchNNBatchNorm)(JNIEnv* env, jobject, jlong input, jlong runningMean, jlong runningVar,
                                    jlong weight, jlong bias, jboolean training, jdouble momentum, jdouble eps) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(at::batch_norm(tensor(input), optionalTensor(weight), optionalTensor(bias),
                                   optionalTensor(runningMean), optionalTensor(runningVar), training, momentum, eps,
                                   at::globalContext().userEnabledCuDNN()));
  });
}

DJL_NATIVE(jlong, torchNNLinear)(JNIEnv* env, jobject, jlong input, jlong weight, jlong bias) {
  return guarded<jlong>(env, 0, [&] {
    return handleOf(at::linear(tensor(input), tensor(weight), optionalTensor(bias)));
  });
}

DJL_NATIVE(jlong, torchNNRelu)(JNIEnv* env, jobject, jlong handle) {
  return guarded<jlong>(env, 0, [&] { return handleOf(at::relu(tensor(handle))); });
}

DJL_NATIVE(jlong, torchNNDropout)(JNIEnv* env, jobject, jlong handle, jdouble probability, jboolean isTrain) {
  return guarded<jlong>(env, 0, [&] { return handleOf(at::dropout(tensor(handle), probability, isTrain)); });
}

DJL_NATIVE(jlong, torchNNMaxPool)(JNIEnv* env, jobject, jlong input, jlongArray kernelSize, jlongArray stride,
                                  jlongArray padding, jboolean ceilMode) {
  return guarded<jlong>(env, 0, [&] {
    std::vector<int64_t> kernel = longs(env, kernelSize);
    std::vector<int64_t> dilation(kernel.size(), 1);
    const at::Tensor& in = tensor(input);
    switch (kernel.size()) {
      case 1: return handleOf(at::max_pool1d(in, kernel, longs(env, stride), longs(env, padding), dilation, ceilMode));
      case 2: return handleOf(at::max_pool2d(in, kernel, longs(env, stride), longs(env, padding), dilation, ceilMode));
      case 3: return handleOf(at::max_pool3d(in, kernel, longs(env, stride), longs(env, padding), dilation, ceilMode));
      default: throw std::invalid_argument("max pooling of " + std::to_string(kernel.size()) + " dimensions");
    }
  });
}

DJL_NATIVE(jlong, torchNNAdaptiveAvgPool)(JNIEnv* env, jobject, jlong input, jlongArray outputSize) {
  return guarded<jlong>(env, 0, [&] {
    std::vector<int64_t> size = longs(env, outputSize);
    const at::Tensor& in = tensor(input);
    switch (size.size()) {
      case 1: return handleOf(at::adaptive_avg_pool1d(in, size));
      case 2: return handleOf(at::adaptive_avg_pool2d(in, size));
      case 3: return handleOf(at::adaptive_avg_pool3d(in, size));
      default: throw std::invalid_argument("adaptive pooling of " + std::to_string(size.size()) + " dimensions");
    }
  });
}
